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
import { SamSession, type SamSessionDeps } from './sam-session.js';

type SamConfig = Pick<ReaderConfig, 'id' | 'baudRate' | 'pollMs'> & { path: string };

export class SamGateReader extends EventEmitter<ReaderEventMap> implements CredentialReader {
  readonly id: string;
  readonly type = 'serial' as const;
  readonly direction: Direction;
  private readonly session: SamSession;

  constructor(cfg: SamConfig & Pick<ReaderConfig, 'direction'>, deps: SamSessionDeps) {
    super();
    this.id = cfg.id;
    this.direction = cfg.direction;
    this.session = new SamSession(cfg, deps, {
      card: (text, at) => this.emit('credential', { kind: 'id', number: text.number }, at),
      rejected: (reason, at) => this.emit('rejected', reason, at),
      status: (connected, detail) => this.emit('status', connected, detail),
    });
  }

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

export class SamDeskReader extends EventEmitter<DeskReaderEventMap> implements DeskCardReader {
  readonly id: string;
  private readonly session: SamSession;

  constructor(cfg: SamConfig, deps: SamSessionDeps) {
    super();
    this.id = cfg.id;
    this.session = new SamSession(cfg, deps, {
      card: (t, at) => this.emit('card', { name: t.name, number: t.number, validTo: t.validTo }, at),
      rejected: (reason, at) => this.emit('rejected', reason, at),
      status: (connected, detail) => this.emit('status', connected, detail),
    });
  }

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
