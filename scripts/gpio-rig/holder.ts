/**
 * Runs inside the GPIO rig's guest: holds one line as another consumer would
 * (a second process), optionally as an output driven active, and says READY
 * on stdout; it is then killed by the checks (SIGTERM or SIGKILL).
 * Usage: node holder.js CHIP OFFSET CONSUMER in|out-high|out-low
 */
import { loadCdevBinding } from '../../src/drivers/gpio/cdev-binding.js';

const [chip, offset, consumer, mode] = process.argv.slice(2);
const b = loadCdevBinding();
const flags = mode === 'in' ? b.FLAGS.INPUT : b.FLAGS.OUTPUT;
b.requestLine(chip!, Number(offset), consumer!, flags, mode === 'out-high', 0);
process.stdout.write('READY\n');
setInterval(() => {}, 60_000);
