/**
 * The host side of the SAM resident ID card reader protocol on one serial
 * port: open (and reopen after an unplug, with back-off), poll the module
 * with find card every `pollMs`, and on a newly placed card select it and
 * read its base information. The caller gets the parsed card text once per
 * card placed, and every failure as a reason (never card data).
 *
 *   bytes → FrameDecoder (frame.ts) → answer → this state machine
 *
 * The module is half duplex: one command, one answer. An answer that cannot
 * belong to the command in flight (a late answer to an earlier command that
 * timed out) is dropped, so a stale read never answers a later find.
 *
 * Tap rule. A card placed is one tap: after a read the card is "on" and is
 * not read again while it stays. Some modules stop answering find for a card
 * they already read, so before declaring the card lifted a failed find is
 * followed by a select: a card that still answers is still on. A lifted card
 * placed again is a new tap. After a reopen (unplug/replug) the same card
 * read again without a lift in between is not a new tap (a digest of the
 * number is kept for that, not the number).
 */
import { createHash } from 'node:crypto';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import type { Logger } from '../../log.js';
import type { BackoffOptions } from '../../backoff.js';
import { parseBaseAnswer, type IdCardText } from '../readers/sam/base-info.js';
import { encodeFrame, FrameDecoder, FRAME_REJECT, type FrameItem } from '../readers/sam/frame.js';
import { BASE_PHOTO_BYTES, BASE_TEXT_BYTES, CMD, describeSw3, MIN_ANSWER_LENGTH, SW3, type CommandName } from '../readers/sam/protocol.js';
import type { Clock } from '../../types.js';
import { DirectReadLinuxBinding } from './direct-read-binding.js';
import { Reconnect } from './reconnect.js';
import type { SerialBinding } from './serial-reader.js';

export interface SamSessionConfig {
  id: string;
  path: string;
  baudRate: number;
  pollMs: number;
}

export interface SamSessionDeps {
  log: Logger;
  clock?: Clock;
  binding?: SerialBinding;
  backoff?: BackoffOptions;
  /** Answer timeout for find, select and SAM status (default 500 ms). */
  commandTimeoutMs?: number;
  /**
   * Answer timeout for read base (default 2000 ms): its 1295-byte answer
   * alone takes 112 ms at 115200 baud, plus the module's exchange with the card.
   */
  readTimeoutMs?: number;
  /** Unanswered commands in a row before the reader is reported down (default 2). */
  silentAfter?: number;
}

export interface SamSessionEvents {
  /** A newly placed card's text. The caller keeps only what its use needs. */
  card(text: IdCardText, at: number): void;
  rejected(reason: string, at: number): void;
  /** A card was placed and read whole, and what it holds cannot be used (another document, a field no card can hold); also a rejected read. */
  refused(reason: string, at: number): void;
  status(connected: boolean, detail: string): void;
}

export interface Answer {
  sw1: number;
  sw2: number;
  sw3: number;
  data: Buffer;
  at: number;
}
type Outcome = { ok: true; answer: Answer } | { ok: false; reason: string; silent?: boolean };

interface Pending {
  command: CommandName;
  resolve(o: Outcome): void;
}

export const SAM_REJECT = {
  noAnswer: 'sam: no answer',
  unexpected: 'sam: unexpected frame',
  selectFailed: 'sam: card removed or select failed',
} as const;

/** Data bytes of a successful answer, per command: anything else is not this command's answer. */
const OK_DATA: Partial<Record<CommandName, number>> = {
  select: 8,
  readBase: 4 + BASE_TEXT_BYTES + BASE_PHOTO_BYTES,
};

function belongsTo(command: CommandName, a: Answer): boolean {
  if (command === 'find') return a.sw3 !== SW3.ok;
  if (a.sw3 !== SW3.ok) return a.sw3 !== SW3.found;
  const want = OK_DATA[command];
  return want === undefined || a.data.length === want;
}

export class SamSession {
  private readonly clock: Clock;
  private readonly binding: SerialBinding;
  private readonly link: Reconnect;
  private readonly commandTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly silentAfter: number;
  private port: SerialPortStream | undefined;
  private decoder = new FrameDecoder({ minLength: MIN_ANSWER_LENGTH });
  private pending: Pending | undefined;
  private running = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  /** The module answered SAM status with success since the port (re)opened. */
  private ready = false;
  private silent = 0;
  /** A card is on the reader and was read (or refused) since it was placed. */
  private cardOn = false;
  /** SHA-256 of the last card's number, until a lift is seen. */
  private lastDigest: string | undefined;

  constructor(
    private readonly cfg: SamSessionConfig,
    private readonly deps: SamSessionDeps,
    private readonly events: SamSessionEvents,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.binding = deps.binding ?? (process.platform === 'linux' ? DirectReadLinuxBinding : SerialPort.binding);
    this.link = new Reconnect('SAM reader', cfg, deps, {
      running: () => this.running,
      reopen: () => void this.open(),
      status: (connected, detail) => events.status(connected, detail),
    });
    this.commandTimeoutMs = deps.commandTimeoutMs ?? 500;
    this.readTimeoutMs = deps.readTimeoutMs ?? 2_000;
    this.silentAfter = deps.silentAfter ?? 2;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Resolves after the first open attempt; a missing device is retried, not thrown. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.open();
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.link.cancel();
    this.wakeUp();
    const port = this.port;
    this.detach('stopped');
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.loopDone;
    this.link.stopped();
  }

  private open(): Promise<void> {
    return new Promise((resolve) => {
      const port = new SerialPortStream({ binding: this.binding, path: this.cfg.path, baudRate: this.cfg.baudRate, autoOpen: false });
      port.on('error', (err: Error) => this.deps.log.warn({ reader: this.cfg.id, err }, 'serial port error'));
      port.open((err) => {
        if (err) {
          this.link.lost(`open failed: ${err.message}`);
        } else if (!this.running) {
          port.close();
        } else {
          this.attach(port);
        }
        resolve();
      });
    });
  }

  private attach(port: SerialPortStream): void {
    this.decoder = new FrameDecoder({ minLength: MIN_ANSWER_LENGTH });
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.detach(err?.disconnected ? 'disconnected' : 'port closed');
      this.link.lost(err?.disconnected ? 'disconnected' : 'port closed');
    });
    this.port = port;
    this.ready = false;
    this.silent = 0;
    // A card seen before the unplug may have been lifted meanwhile: look again, but keep the digest.
    this.cardOn = false;
    this.link.opened();
    this.deps.log.info({ reader: this.cfg.id, path: this.cfg.path, baudRate: this.cfg.baudRate }, 'SAM reader port open');
    this.wakeUp();
  }

  private detach(why: string): void {
    this.port = undefined;
    this.ready = false;
    for (const item of this.decoder.reset()) this.reportFrameReject(item);
    this.pending?.resolve({ ok: false, reason: `sam: ${why}` });
  }

  private onData(port: SerialPortStream, chunk: Buffer): void {
    if (this.port !== port) return;
    const at = this.clock();
    for (const item of this.decoder.push(chunk)) {
      if (item.type === 'rejected') {
        this.reportFrameReject(item, at);
        if (item.reason !== FRAME_REJECT.garbage) this.pending?.resolve({ ok: false, reason: item.reason });
        continue;
      }
      const body = item.body;
      const answer: Answer = { sw1: body[0]!, sw2: body[1]!, sw3: body[2]!, data: body.subarray(3), at };
      const pending = this.pending;
      if (!pending || !belongsTo(pending.command, answer)) {
        this.reject(SAM_REJECT.unexpected, at);
        continue;
      }
      pending.resolve({ ok: true, answer });
    }
  }

  private reportFrameReject(item: FrameItem, at = this.clock()): void {
    if (item.type === 'rejected') this.reject(item.reason, at, item.length);
  }

  private reject(reason: string, at: number, length?: number): void {
    this.deps.log.warn({ reader: this.cfg.id, reason, length }, 'SAM reader input rejected');
    this.events.rejected(reason, at);
  }

  /** Send one command and wait for its answer (or the timeout, a bad frame, the port closing). */
  private command(command: CommandName): Promise<Outcome> {
    const port = this.port;
    if (!port) return Promise.resolve({ ok: false, reason: 'sam: port closed' });
    const timeoutMs = command === 'readBase' ? this.readTimeoutMs : this.commandTimeoutMs;
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        for (const item of this.decoder.reset()) this.reportFrameReject(item);
        done({ ok: false, reason: SAM_REJECT.noAnswer, silent: true });
      }, timeoutMs);
      const done = (o: Outcome) => {
        if (this.pending !== pending) return;
        clearTimeout(timer);
        this.pending = undefined;
        if (o.ok) this.heard();
        else if (o.silent) this.unheard();
        resolve(o);
      };
      const pending: Pending = { command, resolve: done };
      this.pending = pending;
      port.write(encodeFrame(CMD[command]));
    });
  }

  private heard(): void {
    this.silent = 0;
  }

  private unheard(): void {
    this.silent++;
    if (this.silent >= this.silentAfter && this.ready) {
      this.ready = false;
      this.deps.log.warn({ reader: this.cfg.id, unanswered: this.silent }, 'SAM reader not answering');
    }
    if (this.silent >= this.silentAfter) this.link.markDown('reader not answering');
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.port) {
        try {
          if (!this.ready) await this.hello();
          else await this.poll();
        } catch (err) {
          // A bug here must not stop the reader: log and poll again.
          this.deps.log.error({ reader: this.cfg.id, err }, 'SAM poll failed');
        }
      }
      await this.sleep(this.cfg.pollMs);
    }
  }

  /** SAM status (11 FF): the module is there and its security module works. */
  private async hello(): Promise<void> {
    const r = await this.command('samStatus');
    if (!r.ok) return;
    if (r.answer.sw3 === SW3.ok) {
      this.ready = true;
      if (!this.link.connected) this.link.up('SAM module ready');
      return;
    }
    const detail = `SAM module: ${describeSw3(r.answer.sw3)}`;
    if (this.link.markDown(detail)) this.deps.log.warn({ reader: this.cfg.id, detail }, 'SAM module not ready');
  }

  private async poll(): Promise<void> {
    const find = await this.command('find');
    if (!find.ok) return;
    let present: boolean;
    if (find.answer.sw3 === SW3.found) present = true;
    else if (find.answer.sw3 === SW3.noCard) present = this.cardOn ? await this.stillOn() : false;
    else {
      this.reject(`sam: find card: ${describeSw3(find.answer.sw3)}`, find.answer.at);
      return;
    }
    if (!present) {
      if (this.cardOn || this.lastDigest) this.deps.log.debug({ reader: this.cfg.id }, 'card lifted');
      this.cardOn = false;
      this.lastDigest = undefined;
      return;
    }
    if (this.cardOn) return;
    await this.readCard();
  }

  /** After a failed find for a card already read: does it still answer select? */
  private async stillOn(): Promise<boolean> {
    const sel = await this.command('select');
    return sel.ok && sel.answer.sw3 === SW3.ok;
  }

  private async readCard(): Promise<void> {
    const sel = await this.command('select');
    if (!sel.ok) {
      if (!sel.silent) return; // the frame reject was already reported
      this.reject(SAM_REJECT.noAnswer, this.clock());
      return;
    }
    if (sel.answer.sw3 !== SW3.ok) {
      this.reject(SAM_REJECT.selectFailed, sel.answer.at);
      return;
    }
    const read = await this.command('readBase');
    if (!read.ok) {
      if (read.silent) this.reject(SAM_REJECT.noAnswer, this.clock());
      return; // not marked read: the next poll tries again while the card stays
    }
    if (read.answer.sw3 !== SW3.ok) {
      this.reject(`sam: read base: ${describeSw3(read.answer.sw3)}`, read.answer.at);
      return;
    }
    const parsed = parseBaseAnswer(read.answer.data);
    // Well-framed data that cannot be a card's will not get better by reading again: once per placement.
    this.cardOn = true;
    if (!parsed.ok) {
      this.reject(parsed.reason, read.answer.at);
      this.events.refused(parsed.reason, read.answer.at);
      return;
    }
    const digest = createHash('sha256').update(parsed.text.number).digest('hex');
    if (digest === this.lastDigest) {
      this.deps.log.debug({ reader: this.cfg.id }, 'same card still on the reader after a reopen: not a new tap');
      return;
    }
    this.lastDigest = digest;
    this.events.card(parsed.text, read.answer.at);
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.wake?.(), ms);
    });
  }

  private wakeUp(): void {
    this.wake?.();
  }
}
