/**
 * A card, ID-card or QR reader on a serial line (USB-serial adapters,
 * /dev/serial/by-id/… links). Bytes → LineFramer (LineBounds →
 * @serialport/parser-readline → printable check) → the configured format.
 *
 * serialport has no auto-reconnect: on unplug the port emits `close` with
 * `err.disconnected`, and opening fails (ENOENT) while the by-id link is gone.
 * This reader reopens with exponential back-off (reconnect.ts) and pipes a NEW framer each
 * time, so a half line from before the unplug can never join a line after it.
 * The binding is injected (as SerialPortStream does) so unit tests run on
 * @serialport/binding-mock.
 */
import { EventEmitter } from 'node:events';
import { SerialPortStream, type OpenOptions } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { DirectReadLinuxBinding } from './direct-read-binding.js';
import type { ReaderConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import type { BackoffOptions } from '../../backoff.js';
import { CredentialLines } from '../readers/credential-lines.js';
import { MAX_LINE } from '../readers/formats/index.js';
import { LineFramer, type FramedLine } from '../readers/line-framer.js';
import { Reconnect } from './reconnect.js';
import type { CredentialReader, ReaderEventMap } from '../types.js';
import type { Clock, Direction } from '../../types.js';

export type SerialBinding = OpenOptions['binding'];

export interface SerialReaderDeps {
  log: Logger;
  clock?: Clock;
  /** Default: serialport's native binding (on Linux with reads on the gate's thread, direct-read-binding.ts). */
  binding?: SerialBinding;
  /** Silence after a half line before it is rejected (default 500 ms). */
  flushMs?: number;
  backoff?: BackoffOptions;
}

type SerialReaderConfig = Pick<ReaderConfig, 'id' | 'direction' | 'baudRate' | 'repeatMs'> & {
  path: string;
  /** A line format (`sam` readers are SamGateReader's). */
  format: Exclude<ReaderConfig['format'], 'sam'>;
};

export class SerialReader extends EventEmitter<ReaderEventMap> implements CredentialReader {
  readonly id: string;
  readonly type = 'serial' as const;
  readonly direction: Direction;
  private readonly binding: SerialBinding;
  private readonly lines: CredentialLines;
  private readonly link: Reconnect;
  private port: SerialPortStream | undefined;
  private framer: LineFramer | undefined;
  private running = false;

  constructor(
    private readonly cfg: SerialReaderConfig,
    private readonly deps: SerialReaderDeps,
  ) {
    super();
    this.id = cfg.id;
    this.direction = cfg.direction;
    // On Linux, serialport's binding with reads on this thread (direct-read-binding.ts).
    this.binding = deps.binding ?? (process.platform === 'linux' ? DirectReadLinuxBinding : SerialPort.binding);
    this.link = new Reconnect('serial reader', cfg, deps, {
      running: () => this.running,
      reopen: () => void this.open(),
      status: (connected, detail) => this.emit('status', connected, detail),
    });
    this.lines = new CredentialLines({
      readerId: cfg.id,
      format: cfg.format,
      repeatMs: cfg.repeatMs,
      log: deps.log,
      events: this,
    });
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Resolves after the first open attempt; a missing device is retried, not thrown. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.link.cancel();
    const port = this.port;
    this.detach();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.link.stopped();
  }

  private open(): Promise<void> {
    return new Promise((resolve) => {
      const port = new SerialPortStream({
        binding: this.binding,
        path: this.cfg.path,
        baudRate: this.cfg.baudRate,
        autoOpen: false,
      });
      port.on('error', (err: Error) => this.deps.log.warn({ reader: this.id, err }, 'serial port error'));
      port.open((err) => {
        if (err) {
          this.link.lost(`open failed: ${err.message}`);
          resolve();
          return;
        }
        if (!this.running) {
          port.close();
          resolve();
          return;
        }
        this.attach(port);
        resolve();
      });
    });
  }

  private attach(port: SerialPortStream): void {
    const framer = new LineFramer({
      maxLine: MAX_LINE[this.cfg.format],
      flushMs: this.deps.flushMs,
      clock: this.deps.clock,
    });
    framer.on('data', (item: FramedLine) => this.lines.handle(item));
    port.pipe(framer);
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.detach();
      this.link.lost(err?.disconnected ? 'disconnected' : 'port closed');
    });
    this.port = port;
    this.framer = framer;
    this.link.opened();
    this.deps.log.info({ reader: this.id, path: this.cfg.path, baudRate: this.cfg.baudRate }, 'serial reader open');
    this.link.up('port open');
  }

  /** Unhook the current port and flush its framer: a half line is rejected, not kept. */
  private detach(): void {
    const { port, framer } = this;
    this.port = undefined;
    this.framer = undefined;
    if (port && framer) port.unpipe(framer);
    framer?.end();
  }
}
