/**
 * Resident ID card readers speaking the SAM binary protocol (`format: sam`),
 * in their two uses. The protocol work is SamSession's; these classes decide
 * what leaves the driver:
 * - SamGateReader (a reader at the passage) hands on the ID number alone, as
 *   an `id` credential; name, address, birth date, nation and authority stay here.
 * - SamDeskReader (`use: desk`, the reception desk) hands the registration
 *   form the name, the number and the validity end, nothing else.
 */
import { EventEmitter } from 'node:events';
import type { ReaderConfig } from '../../config.js';
import type { CredentialReader, DeskCardReader, DeskReaderEventMap, ReaderEventMap } from '../types.js';
import type { Direction } from '../../types.js';
import type { IdCardText } from '../readers/sam/base-info.js';
import { SamSession, type SamSessionDeps } from './sam-session.js';

type SamConfig = Pick<ReaderConfig, 'id' | 'baudRate' | 'pollMs'> & { path: string };
/** The events both uses share, with the same arguments. */
type SharedEvents = Pick<ReaderEventMap, 'rejected' | 'status'>;

/**
 * One SamSession: its rejects and status changes pass through as they are;
 * each use says what a card placed becomes.
 */
abstract class SamReader<M extends SharedEvents & Record<keyof M, unknown[]>> extends EventEmitter<M> {
  readonly id: string;
  private readonly session: SamSession;

  constructor(cfg: SamConfig, deps: SamSessionDeps) {
    super();
    this.id = cfg.id;
    // M extends SharedEvents: every use's rejected and status take these arguments.
    const out: Pick<EventEmitter<SharedEvents>, 'emit'> = this;
    this.session = new SamSession(cfg, deps, {
      card: (text, at) => this.card(text, at),
      refused: (reason, at) => this.refused(reason, at),
      rejected: (reason, at) => out.emit('rejected', reason, at),
      status: (connected, detail) => out.emit('status', connected, detail),
    });
  }

  /** A newly placed card: emit what this use hands on, nothing more. */
  protected abstract card(text: IdCardText, at: number): void;

  /** A card read whole and refused: already a rejected read; a use may say more. */
  protected refused(_reason: string, _at: number): void {}

  get connected(): boolean {
    return this.session.connected;
  }
  start(): Promise<void> {
    return this.session.start();
  }
  stop(): Promise<void> {
    return this.session.stop();
  }
}

export class SamGateReader extends SamReader<ReaderEventMap> implements CredentialReader {
  readonly type = 'serial' as const;
  readonly direction: Direction;

  constructor(cfg: SamConfig & Pick<ReaderConfig, 'direction'>, deps: SamSessionDeps) {
    super(cfg, deps);
    this.direction = cfg.direction;
  }

  protected card(text: IdCardText, at: number): void {
    this.emit('credential', { kind: 'id', number: text.number }, at);
  }
}

export class SamDeskReader extends SamReader<DeskReaderEventMap> implements DeskCardReader {
  protected card(t: IdCardText, at: number): void {
    this.emit('card', { name: t.name, number: t.number, validTo: t.validTo }, at);
  }

  /** The desk tells the waiting form why the card on it cannot be used. */
  protected override refused(reason: string, at: number): void {
    this.emit('refused', reason, at);
  }
}
