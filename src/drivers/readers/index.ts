/**
 * Builds the configured credential readers. Only main.ts calls this; the
 * controller sees CredentialReader and nothing of pcsc or serialport.
 */
import type { ReaderConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import { NfcReader } from '../nfc/nfc-reader.js';
import { SerialReader } from '../serial/serial-reader.js';
import { SamDeskReader, SamGateReader } from '../serial/sam-reader.js';
import type { CredentialReader, DeskCardReader } from '../types.js';
import type { Clock } from '../../types.js';
import { SimReader } from './sim-reader.js';

export interface ReaderDeps {
  log: Logger;
  clock?: Clock;
  /** Lines for `sim` readers; default process.stdin. */
  input?: NodeJS.ReadableStream;
}

/** The gate's readers (every reader but the reception desk's). */
export function buildReaders(cfgs: ReaderConfig[], deps: ReaderDeps): CredentialReader[] {
  return cfgs.filter((cfg) => cfg.use !== 'desk').map((cfg) => buildReader(cfg, deps));
}

/** The reception desk's ID card readers (`use: desk`), for the admin page's registration form. */
export function buildDeskReaders(cfgs: ReaderConfig[], deps: ReaderDeps): DeskCardReader[] {
  return cfgs
    .filter((cfg) => cfg.use === 'desk')
    .map((cfg) => new SamDeskReader({ ...cfg, path: serialPath(cfg) }, { log: deps.log, clock: deps.clock }));
}

function serialPath(cfg: ReaderConfig): string {
  if (!cfg.path) throw Object.assign(new Error(`reader ${cfg.id}: a serial reader needs a path`), { code: 'READER_CONFIG' });
  return cfg.path;
}

function buildReader(cfg: ReaderConfig, deps: ReaderDeps): CredentialReader {
  const { log } = deps;
  switch (cfg.type) {
    case 'sim':
      return new SimReader(cfg, { log, clock: deps.clock, input: deps.input });
    case 'serial': {
      const path = serialPath(cfg);
      if (cfg.format === 'sam') return new SamGateReader({ ...cfg, path }, { log, clock: deps.clock });
      return new SerialReader({ ...cfg, path, format: cfg.format }, { log, clock: deps.clock });
    }
    case 'pcsc':
      return new NfcReader(cfg, { log, clock: deps.clock });
  }
}

export { SimReader } from './sim-reader.js';
export { SerialReader } from '../serial/serial-reader.js';
export { NfcReader } from '../nfc/nfc-reader.js';
export { SamDeskReader, SamGateReader } from '../serial/sam-reader.js';
