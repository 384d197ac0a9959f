/**
 * The slice of nfc-pcsc 0.8.1 this driver uses (the package ships no types),
 * and a loader that requires it only when a pcsc reader is configured, so the
 * simulation profile never loads the native pcsclite addon.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** @pokusew/pcsclite's CardReader under an nfc-pcsc Reader. */
export interface PcscCardReader extends EventEmitter {
  readonly name: string;
  readonly SCARD_STATE_PRESENT: number;
  close(): void;
}

/** nfc-pcsc's Reader: emits 'card' {atr}, 'card.off', 'error', 'end'. */
export interface NfcDevice extends EventEmitter {
  readonly name: string;
  readonly reader: PcscCardReader;
  autoProcessing: boolean;
  transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>;
}

/** nfc-pcsc's NFC: emits 'reader' (NfcDevice) and 'error' when pcscd fails. */
export interface NfcContext extends EventEmitter {
  close(): void;
}

export type CreateNfc = () => NfcContext;

export function loadNfcPcsc(): CreateNfc {
  const require = createRequire(import.meta.url);
  const { NFC } = require('nfc-pcsc') as { NFC: new () => NfcContext };
  return () => new NFC();
}
