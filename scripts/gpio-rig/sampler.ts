/**
 * Runs inside the GPIO rig's guest: samples gpio-sim `value` files in a tight
 * loop until a stop file appears, then writes what it saw (every distinct
 * value per file, the number of sweeps) as JSON to the out file.
 * Usage: node sampler.js OUT STOPFILE VALUEFILE...
 */
import { closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs';

const [out, stop, ...files] = process.argv.slice(2);
if (!out || !stop || !files.length) throw new Error('usage: sampler OUT STOPFILE VALUEFILE...');
const fds = files.map((f) => openSync(f, 'r'));
const seen = files.map(() => new Set<string>());
const buf = Buffer.alloc(8);
let sweeps = 0;
writeFileSync(`${out}.started`, '');
for (;;) {
  for (let i = 0; i < fds.length; i++) {
    const n = readSync(fds[i]!, buf, 0, 8, 0);
    seen[i]!.add(buf.toString('utf8', 0, n).trim());
  }
  sweeps++;
  if (sweeps % 64 === 0 && existsSync(stop)) break;
}
for (const fd of fds) closeSync(fd);
writeFileSync(out, JSON.stringify({ sweeps, seen: Object.fromEntries(files.map((f, i) => [f, [...seen[i]!].sort()])) }));
