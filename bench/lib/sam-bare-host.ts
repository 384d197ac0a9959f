/**
 * The transport floor of the SAM bench: the least any host can do over the
 * same pty pair, socat and simulated module process. A bare loop on the
 * reader's end of the line, the same serialport binding the driver uses,
 * sends each command the moment the answer before it is whole, and does
 * nothing else: no session, no base-information decoding, no gate, no
 * journal, no relay. Its three hops (find answer → select, select answer →
 * read base, read answer → its last byte here) are what the pty, socat, the
 * kernel and two event loops cost before the host's own code runs; the
 * bench prints them beside the driver's, in the same run.
 */
import { SerialPortStream } from '@serialport/stream';
import { DirectReadLinuxBinding } from '../../src/drivers/serial/direct-read-binding.js';
import { encodeFrame, FrameDecoder } from '../../src/drivers/readers/sam/frame.js';
import { CMD, MIN_ANSWER_LENGTH, SW3 } from '../../src/drivers/readers/sam/protocol.js';

export interface BareHostRig {
  /** Put a card in the field at the module's next find command. */
  arm(): void;
  /** Take it away. */
  remove(): void;
  /** The module's timestamps for the card just read (see sam-module-process.ts). */
  nextTap(): Promise<{ rx: Record<string, number>; done: Record<string, number> }>;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per card, the three hops in ms; the first `warmup` cards are not returned. */
export async function bareHostHops(path: string, baudRate: number, rig: BareHostRig, cards: number, warmup: number): Promise<number[][]> {
  const port = new SerialPortStream({ binding: DirectReadLinuxBinding, path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const decoder = new FrameDecoder({ minLength: MIN_ANSWER_LENGTH });
  const frames = Object.fromEntries(Object.entries(CMD).map(([name, body]) => [name, encodeFrame(body)])) as Record<keyof typeof CMD, Buffer>;
  let onAnswer: ((sw3: number, at: number) => void) | undefined;
  port.on('data', (chunk: Buffer) => {
    const at = now();
    for (const item of decoder.push(chunk)) if (item.type === 'frame') onAnswer?.(item.body[2]!, at);
  });
  const ask = (command: keyof typeof CMD) =>
    new Promise<{ sw3: number; at: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare host: no answer to ${command} within 2 s`)), 2_000);
      onAnswer = (sw3, at) => {
        clearTimeout(timer);
        onAnswer = undefined;
        resolve({ sw3, at });
      };
      port.write(frames[command]);
    });
  const hops: number[][] = [];
  try {
    for (let i = 0; i < warmup + cards; i++) {
      rig.arm();
      while ((await ask('find')).sw3 !== SW3.found) await sleep(20);
      if ((await ask('select')).sw3 !== SW3.ok) throw new Error('bare host: select refused');
      const read = await ask('readBase');
      if (read.sw3 !== SW3.ok) throw new Error('bare host: read base refused');
      const { rx, done } = await rig.nextTap();
      if (i >= warmup) hops.push([rx.select! - done.find!, rx.readBase! - done.select!, read.at - done.readBase!]);
      rig.remove();
      while ((await ask('find')).sw3 === SW3.found) await sleep(20);
    }
    return hops;
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
