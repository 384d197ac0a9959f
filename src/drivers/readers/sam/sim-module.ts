/**
 * A simulated SAM resident ID card reader module, on the module's side of a
 * serial line (in tests and `npm start`, the far end of a socat pty). It
 * speaks the protocol byte for byte: it decodes command frames with the same
 * codec, answers with the status bytes and data a module sends, and paces
 * every answer at the line's baud rate (10 bits a byte, 8N1), so a host sees
 * the bytes arrive when a real UART would deliver them.
 *
 * Module behaviour modelled (protocol.ts): SAM status / reset → 90; find →
 * 9F with 4 bytes while a card is in the field, else 80; select → 90 with 8
 * bytes, else 81; read base → 90 with the 1284-byte base information of the
 * selected card, or 41 when the card left after select; a frame with a bad
 * checksum → 10; a bad length → 11; an unknown command → 21.
 *
 * Hooks for tests: `beforeAnswer` (pull the card between select and read),
 * `tamper` (corrupt an answer), `mute` (a silent module), `delayMs` (a slow
 * module), `sendRaw` (line noise).
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import type { SerialBinding } from '../../serial/serial-reader.js';
import { DirectReadLinuxBinding } from '../../serial/direct-read-binding.js';
import { encodeBaseAnswer, type CardFields } from './base-info.js';
import { encodeFrame, FrameDecoder, FRAME_REJECT } from './frame.js';
import { CMD, MIN_COMMAND_LENGTH, PREAMBLE, SW3, wireMs, type CommandName } from './protocol.js';

export interface SimSamModuleOptions {
  /** The module's end of the line. */
  path: string;
  baudRate?: number;
  binding?: SerialBinding;
  /** The module's own time before it starts answering, per command (default 0). */
  delayMs?: Partial<Record<CommandName, number>>;
  /** Pace answers at the baud rate (default true). */
  pace?: boolean;
}

export type SimCommand = CommandName | 'unknown' | 'bad checksum' | 'bad length';

const BY_BYTES = new Map<string, CommandName>(Object.entries(CMD).map(([name, [c, p]]) => [`${c}:${p}`, name as CommandName]));

export class SimSamModule {
  private port: SerialPortStream | undefined;
  /** Our own write fd on the line: a byte goes out when the module says so, not after a stream's queue. */
  private out: number | undefined;
  private readonly decoder = new FrameDecoder({ minLength: MIN_COMMAND_LENGTH });
  private readonly baudRate: number;
  private card: CardFields | undefined;
  private selected = false;
  private sending: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Commands in arrival order. */
  readonly received: SimCommand[] = [];
  /** Called as a command arrives, before the module answers it. */
  beforeAnswer: ((command: SimCommand) => void) | undefined;
  /** Replace an answer's bytes just before they go out (return undefined to keep them). */
  tamper: ((frame: Buffer, command: SimCommand) => Buffer | undefined) | undefined;
  /** Called when the last byte of an answer has been written. */
  onAnswered: ((command: SimCommand, bytes: number, at: number) => void) | undefined;
  /** A silent module: commands are received and never answered. */
  mute = false;
  /** Cut an answer in two at this byte, with a pause between the halves (test the host's reassembly). */
  cutAt: ((command: SimCommand) => number | undefined) | undefined;

  /** The module's own time before it starts answering, per command; may be changed while running. */
  delayMs: Partial<Record<CommandName, number>>;

  constructor(private readonly opts: SimSamModuleOptions) {
    this.baudRate = opts.baudRate ?? 115_200;
    this.delayMs = { ...opts.delayMs };
  }

  async start(): Promise<void> {
    const port = new SerialPortStream({
      binding: this.opts.binding ?? (process.platform === 'linux' ? DirectReadLinuxBinding : SerialPort.binding),
      path: this.opts.path,
      baudRate: this.baudRate,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => {});
    this.port = port;
    if (!this.opts.binding) this.out = openSync(this.opts.path, constants.O_WRONLY | constants.O_NOCTTY);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const port = this.port;
    this.port = undefined;
    if (this.out !== undefined) closeSync(this.out);
    this.out = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private send(port: SerialPortStream, bytes: Buffer): void {
    if (this.out === undefined) {
      port.write(bytes);
      return;
    }
    try {
      writeSync(this.out, bytes);
    } catch {
      // The line went away (socat stopped): what a module on an unplugged cable sends is lost.
    }
  }

  /** Put a card in the field. */
  place(card: CardFields): void {
    this.card = card;
    this.selected = false;
  }

  /** Take the card out of the field. */
  remove(): void {
    this.card = undefined;
    this.selected = false;
  }

  get hasCard(): boolean {
    return this.card !== undefined;
  }

  /** Bytes on the line outside any answer (noise), paced like answers. */
  sendRaw(bytes: Buffer): Promise<void> {
    return this.enqueue(bytes, 0);
  }

  private onData(chunk: Buffer): void {
    const at = performance.now();
    for (const item of this.decoder.push(chunk)) {
      let command: SimCommand;
      let bytes: number;
      if (item.type === 'rejected') {
        if (item.reason === FRAME_REJECT.badChecksum) command = 'bad checksum';
        else if (item.reason === FRAME_REJECT.badLength) command = 'bad length';
        else continue; // noise before a frame: a module ignores it
        bytes = item.length;
      } else {
        command = BY_BYTES.get(`${item.body[0]}:${item.body[1]}`) ?? 'unknown';
        bytes = item.body.length + PREAMBLE.length + 3;
      }
      this.received.push(command);
      this.beforeAnswer?.(command);
      if (this.mute) continue;
      const answer = encodeFrame(this.answer(command));
      const sent = this.tamper?.(answer, command) ?? answer;
      // A pty delivers the host's command at once; a UART would still be shifting it in.
      const rx = this.opts.pace === false ? 0 : wireMs(bytes, this.baudRate);
      const own = command in CMD ? (this.delayMs[command as CommandName] ?? 0) : 0;
      void this.enqueue(sent, at + rx + own, command);
    }
  }

  /** SW1 SW2 SW3 and data for a command, from the card in the field. */
  private answer(command: SimCommand): Buffer {
    const status = (sw3: number, data: Buffer = Buffer.alloc(0)) => Buffer.concat([Buffer.from([0, 0, sw3]), data]);
    switch (command) {
      case 'samStatus':
      case 'resetSam':
        return status(SW3.ok);
      case 'samId':
        return status(SW3.ok, Buffer.alloc(16));
      case 'find':
        return this.card ? status(SW3.found, Buffer.alloc(4)) : status(SW3.noCard);
      case 'select':
        this.selected = this.card !== undefined;
        return this.card ? status(SW3.ok, Buffer.alloc(8)) : status(SW3.selectFailed);
      case 'readBase':
        return this.card && this.selected ? status(SW3.ok, encodeBaseAnswer(this.card)) : status(SW3.readFailed);
      case 'bad checksum':
        return status(SW3.badChecksum);
      case 'bad length':
        return status(SW3.badLength);
      case 'unknown':
        return status(SW3.badCommand);
    }
  }

  /** Answers go out one after another, each paced from when it starts (not before `notBefore`, a performance.now() time). */
  private enqueue(bytes: Buffer, notBefore: number, command?: SimCommand): Promise<void> {
    this.sending = this.sending.then(async () => {
      await this.waitUntil(notBefore);
      const cut = command ? this.cutAt?.(command) : undefined;
      if (cut !== undefined && cut > 0 && cut < bytes.length) {
        await this.write(bytes.subarray(0, cut));
        await this.sleep(5);
        await this.write(bytes.subarray(cut));
      } else {
        await this.write(bytes);
      }
      if (command) this.onAnswered?.(command, bytes.length, performance.now());
    });
    return this.sending;
  }

  private async write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port) return;
    if (this.opts.pace === false) {
      this.send(port, bytes);
      return;
    }
    // Hand over what the UART would have shifted out by now; the last byte goes at start + wire time.
    const start = performance.now();
    const total = wireMs(bytes.length, this.baudRate);
    let sent = 0;
    while (sent < bytes.length && this.port === port) {
      const elapsed = performance.now() - start;
      const due = elapsed >= total ? bytes.length : Math.floor((elapsed / total) * bytes.length);
      if (due > sent) {
        this.send(port, bytes.subarray(sent, due));
        sent = due;
      }
      if (sent < bytes.length) {
        if (start + total - performance.now() <= 2) await this.waitUntil(start + total);
        else await this.sleep(1);
      }
    }
  }

  /**
   * Until performance.now() reaches `t`: a timer for most of it, then a short
   * spin, because a timer fires up to a millisecond late and the module's
   * timing is what the host is measured against.
   */
  private async waitUntil(t: number): Promise<void> {
    const ahead = t - performance.now();
    if (ahead > 2) await this.sleep(ahead - 1.5);
    while (performance.now() < t) {
      /* spin: at most ~1.5 ms */
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
