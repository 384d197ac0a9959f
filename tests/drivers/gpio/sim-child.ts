/**
 * Child process for the SIGKILL test: starts the sim GPIO with a trace file,
 * energizes the entry relay, says so on stdout, and waits to be killed.
 */
import { buildGpio } from '../../../src/drivers/gpio/index.js';
import { configSchema } from '../../../src/config.js';
import { silentLogger } from '../../../src/log.js';

const trace = process.argv[2]!;
const gpio = buildGpio(
  configSchema.shape.gpio.parse({ backend: 'sim', trace, relays: { entry: { line: 17 } }, leds: { green: { line: 5 } } }),
  { log: silentLogger() },
);
await gpio.start();
gpio.outputs.entry!.set(true);
process.stdout.write('PULSE\n');
setInterval(() => {}, 60_000);
