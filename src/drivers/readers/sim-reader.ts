/**
 * The simulated reader of the simulation profile: a person types a card UID
 * (hex), an 18-character ID number or a GP1 pass token on the terminal, one
 * per line. Lines go through the same framing and parsing as a serial reader
 * (format `auto`), so what works here works on the real hardware.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import type { ReaderConfig } from '../../config.js';
import type { CredentialReader, ReaderEventMap } from '../types.js';
import type { Clock, Direction } from '../../types.js';
import { CredentialLines } from './credential-lines.js';
import { MAX_LINE } from './formats/index.js';
import { LineFramer, type FramedLine } from './line-framer.js';

export interface SimReaderDeps {
  log: Logger;
  clock?: Clock;
  /** Where lines come from; default process.stdin. */
  input?: NodeJS.ReadableStream;
  flushMs?: number;
}

export class SimReader extends EventEmitter<ReaderEventMap> implements CredentialReader {
  readonly id: string;
  readonly type = 'sim' as const;
  readonly direction: Direction;
  private live = false;
  private framer: LineFramer | undefined;
  private readonly lines: CredentialLines;
  private readonly input: NodeJS.ReadableStream;

  constructor(
    cfg: Pick<ReaderConfig, 'id' | 'direction' | 'repeatMs'>,
    private readonly deps: SimReaderDeps,
  ) {
    super();
    this.id = cfg.id;
    this.direction = cfg.direction;
    this.input = deps.input ?? process.stdin;
    this.lines = new CredentialLines({
      readerId: cfg.id,
      format: 'auto',
      repeatMs: cfg.repeatMs,
      log: deps.log,
      events: this,
    });
  }

  get connected(): boolean {
    return this.live;
  }

  async start(): Promise<void> {
    if (this.framer) return;
    const framer = new LineFramer({ maxLine: MAX_LINE.auto, flushMs: this.deps.flushMs, clock: this.deps.clock });
    framer.on('data', (item: FramedLine) => this.lines.handle(item));
    // Keep the input open when we stop: stdin belongs to the process.
    this.input.pipe(framer, { end: false });
    this.input.once('end', this.onEnd);
    this.framer = framer;
    this.live = true;
    this.emit('status', true, 'reading lines from the terminal');
  }

  async stop(): Promise<void> {
    const framer = this.framer;
    if (!framer) return;
    this.framer = undefined;
    this.input.unpipe(framer);
    this.input.removeListener('end', this.onEnd);
    framer.destroy();
    if (this.live) {
      this.live = false;
      this.emit('status', false, 'stopped');
    }
  }

  private readonly onEnd = (): void => {
    this.framer?.end();
    if (this.live) {
      this.live = false;
      this.emit('status', false, 'input closed');
    }
  };
}
