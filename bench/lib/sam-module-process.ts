/**
 * The simulated SAM module in a process of its own, for bench:readers: its
 * pacing timers and short spins then never hold up the gate's event loop, as
 * a real module on a UART would not. Driven over IPC by the bench:
 *   {arm: CardFields}  put this card in the field at the next find command
 *   {remove: true}     take the card away
 * and reports, per armed card, when each command arrived and when each answer's
 * last byte went out (performance.timeOrigin + performance.now(), comparable
 * across processes), and every find it receives.
 */
import { SimSamModule } from '../../src/drivers/readers/sam/sim-module.js';
import type { CardFields } from '../../src/drivers/readers/sam/base-info.js';

export type ModuleMsg = { type: 'ready' } | { type: 'find' } | { type: 'tap'; t0: number; rx: Record<string, number>; done: Record<string, number> };

const now = () => performance.timeOrigin + performance.now();
const send = (m: ModuleMsg) => process.send!(m);

async function main(): Promise<void> {
  const [path, baud] = [process.argv[2]!, Number(process.argv[3] ?? 115_200)];
  const module = new SimSamModule({ path, baudRate: baud });
  await module.start();
  let armed: CardFields | undefined;
  let tap: { t0: number; rx: Record<string, number>; done: Record<string, number> } | undefined;
  module.beforeAnswer = (c) => {
    if (c === 'find') {
      send({ type: 'find' });
      if (armed) {
        tap = { t0: now(), rx: {}, done: {} };
        module.place(armed);
        armed = undefined;
        return;
      }
    }
    if (tap && tap.rx[c] === undefined) tap.rx[c] = now();
  };
  module.onAnswered = (c) => {
    if (!tap || tap.done[c] !== undefined) return;
    tap.done[c] = now();
    if (c === 'readBase') {
      send({ type: 'tap', ...tap });
      tap = undefined;
    }
  };
  process.on('message', (m: { arm?: CardFields; remove?: boolean; stop?: boolean }) => {
    if (m.arm) armed = m.arm;
    if (m.remove) module.remove();
    if (m.stop) void module.stop().then(() => process.exit(0));
  });
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
