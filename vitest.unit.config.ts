/**
 * `npm run test:unit`: every test that needs no daemon (no mosquitto, pcscd,
 * socat pty, spawned gate daemon or browser), so it runs anywhere in seconds
 * to minutes. The full suite (`npm test`) runs these and the rest.
 * tests/architecture/unit-set.test.ts fails when a test that starts a daemon
 * is missing from this list.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export const needsDaemon = [
  'tests/e2e/**', // the built daemon + chromium
  'tests/e2e-hardware/**', // the built daemon on pcscd + vpcd or socat ptys
  'tests/chaos/**', // the built daemon, mosquitto, the collector
  'tests/crash/sigkill.test.ts', // 200 SIGKILLs of the built daemon on a socat pty
  'tests/drivers/nfc/pcsc.test.ts', // pcscd + vpcd
  'tests/drivers/serial/serial-pty.test.ts', // socat ptys
  'tests/drivers/serial/sam-pty.test.ts',
  'tests/drivers/gpio/cdev-rig.test.ts', // a Debian kernel with gpio-sim under QEMU
  'tests/cli/broker-acl.test.ts', // mosquitto
  'tests/cli/broker-auth.test.ts',
  'tests/cli/central.test.ts', // mosquitto and PostgreSQL
  'tests/cli/central-store.test.ts', // PostgreSQL
  'tests/cli/cmd.test.ts',
  'tests/cli/fleet.test.ts', // PostgreSQL
  'tests/cli/whitelist-push.test.ts',
  'tests/sync/chaos.test.ts', // mosquitto (through tests/sync/support)
  'tests/sync/collector-purged.test.ts',
  'tests/sync/commands.test.ts',
  'tests/sync/events.test.ts',
  'tests/sync/link-security.test.ts',
  'tests/sync/link-transport.test.ts',
  'tests/sync/mosquitto-helper.test.ts',
  'tests/sync/oversize.test.ts',
  'tests/sync/retention.test.ts',
  'tests/sync/session.test.ts',
  'tests/sync/tls.test.ts',
  'tests/sync/whitelist.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: ['**/node_modules/**', ...needsDaemon] } }));
