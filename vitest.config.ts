import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration tests start their own mosquitto / pcscd / socat on loopback;
    // files run in parallel workers but each picks free ports.
    pool: 'forks',
    reporters: ['default'],
  },
});
