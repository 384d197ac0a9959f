/**
 * Builds the configured credential readers. Only main.ts calls this; the
 * controller sees CredentialReader and nothing of pcsc or serialport.
 */
import type { ReaderConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import { NfcReader } from '../nfc/nfc-reader.js';
import { SerialReader } from '../serial/serial-reader.js';
import type { CredentialReader } from '../types.js';
import type { Clock } from '../../types.js';
import { SimReader } from './sim-reader.js';

export interface ReaderDeps {
  log: Logger;
  clock?: Clock;
  /** Lines for `sim` readers; default process.stdin. */
  input?: NodeJS.ReadableStream;
}

export function buildReaders(cfgs: ReaderConfig[], deps: ReaderDeps): CredentialReader[] {
  return cfgs.map((cfg) => buildReader(cfg, deps));
}

function buildReader(cfg: ReaderConfig, deps: ReaderDeps): CredentialReader {
  const { log } = deps;
  switch (cfg.type) {
    case 'sim':
      return new SimReader(cfg, { log, clock: deps.clock, input: deps.input });
    case 'serial': {
      if (!cfg.path) {
        throw Object.assign(new Error(`reader ${cfg.id}: a serial reader needs a path`), { code: 'READER_CONFIG' });
      }
      return new SerialReader({ ...cfg, path: cfg.path }, { log, clock: deps.clock });
    }
    case 'pcsc':
      return new NfcReader(cfg, { log, clock: deps.clock });
  }
}

export { SimReader } from './sim-reader.js';
export { SerialReader } from '../serial/serial-reader.js';
export { NfcReader } from '../nfc/nfc-reader.js';
