/**
 * The transport floor of the SAM bench: the least any host can do over a
 * pty pair, socat and a simulated module process like the driver's. A bare
 * loop on the reader's end of the line, with the serialport binding the
 * driver uses, sends each command the moment the answer before it is whole
 * and does nothing else: no session, no base-information decoding, no gate,
 * no journal, no relay. Its three hops (find answer → select, select answer
 * → read base, read answer → its last byte here) are what the ptys, socat,
 * the kernel and two event loops cost before a host's own code runs. The
 * bench runs it in the gate's process, card for card alternating with the
 * driver, so both see the same machine.
 */
import { SerialPortStream } from '@serialport/stream';
import { DirectReadLinuxBinding } from '../../src/drivers/serial/direct-read-binding.js';
import { encodeFrame, FrameDecoder } from '../../src/drivers/readers/sam/frame.js';
import { CMD, MIN_ANSWER_LENGTH, SW3 } from '../../src/drivers/readers/sam/protocol.js';
import type { CardFields } from '../../src/drivers/readers/sam/base-info.js';
import type { ModuleHandle } from './sam-module-handle.js';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FRAMES = Object.fromEntries(Object.entries(CMD).map(([name, body]) => [name, encodeFrame(body)])) as Record<keyof typeof CMD, Buffer>;

export class BareSamHost {
  private port: SerialPortStream | undefined;
  private readonly decoder = new FrameDecoder({ minLength: MIN_ANSWER_LENGTH });
  private onAnswer: ((sw3: number, at: number) => void) | undefined;

  constructor(
    private readonly module: ModuleHandle,
    private readonly baudRate: number,
  ) {}

  async start(): Promise<void> {
    const port = new SerialPortStream({ binding: DirectReadLinuxBinding, path: this.module.readerPath, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => {
      const at = now();
      for (const item of this.decoder.push(chunk)) if (item.type === 'frame') this.onAnswer?.(item.body[2]!, at);
    });
    this.port = port;
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** One card placed, found, selected and read; its three hops in ms. */
  async card(card: CardFields): Promise<number[]> {
    this.module.clear();
    this.module.arm(card);
    while ((await this.ask('find')).sw3 !== SW3.found) await sleep(20);
    if ((await this.ask('select')).sw3 !== SW3.ok) throw new Error('bare host: select refused');
    const read = await this.ask('readBase');
    if (read.sw3 !== SW3.ok) throw new Error('bare host: read base refused');
    const { rx, done } = await this.module.nextTap();
    this.module.remove();
    while ((await this.ask('find')).sw3 === SW3.found) await sleep(20);
    return [rx.select! - done.find!, rx.readBase! - done.select!, read.at - done.readBase!];
  }

  private ask(command: keyof typeof CMD): Promise<{ sw3: number; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare host: no answer to ${command} within 2 s`)), 2_000);
      this.onAnswer = (sw3, at) => {
        clearTimeout(timer);
        this.onAnswer = undefined;
        resolve({ sw3, at });
      };
      this.port!.write(FRAMES[command]);
    });
  }
}
