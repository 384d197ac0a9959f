/**
 * Contactless cards and phones through pcscd and nfc-pcsc.
 *
 * Traps handled (../shared/LIBRARIES.md):
 * - `new NFC()` blocks the process while pcscd is absent: pcscd's socket is
 *   probed first (pcscd-probe.ts); when it does not answer the reader reports
 *   status false and retries with back-off, the event loop never waits.
 * - When pcscd dies, NFC and each Reader emit 'error' and the monitoring
 *   threads end: the whole NFC context is dropped and rebuilt when pcscd
 *   answers again, on the same CredentialReader object.
 * - autoProcessing is off; GET DATA is sent here (uid-read.ts), with a timeout.
 * - nfc-pcsc's Reader emits some connect failures with the Error object as
 *   the event NAME (`this.emit(err)`, src/Reader.js), which no 'error'
 *   listener sees: its emit is wrapped to catch them, and a card that never
 *   produces a 'card' event within `cardTimeoutMs` is reported rejected.
 * - One tap per card presence: repeated reads of a UID inside `repeatMs`
 *   are folded (pokusew/nfc-pcsc#34).
 * - CardReader.close() inside a status callback's microtasks deadlocks
 *   (see stop()): the native close always runs from its own macrotask.
 */
import { EventEmitter } from 'node:events';
import type { ReaderConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import { Backoff, type BackoffOptions } from '../../backoff.js';
import { RepeatFilter } from '../readers/repeat-filter.js';
import type { CredentialReader, ReaderEventMap } from '../types.js';
import type { Clock, Direction } from '../../types.js';
import { loadNfcPcsc, type CreateNfc, type NfcContext, type NfcDevice } from './nfc-pcsc.js';
import { pcscdSocketPath, probePcscd } from './pcscd-probe.js';
import { readUid } from './uid-read.js';

export interface NfcReaderDeps {
  log: Logger;
  clock?: Clock;
  /** Default: nfc-pcsc's NFC. */
  createNfc?: CreateNfc;
  /** Default: PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm. */
  socketPath?: string;
  probeTimeoutMs?: number;
  /** Deadline for GET DATA and for a present card to be connected (default 2 s). */
  cardTimeoutMs?: number;
  backoff?: BackoffOptions;
}

type NfcReaderConfig = Pick<ReaderConfig, 'id' | 'direction' | 'name' | 'repeatMs'>;

export class NfcReader extends EventEmitter<ReaderEventMap> implements CredentialReader {
  readonly id: string;
  readonly type = 'pcsc' as const;
  readonly direction: Direction;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly repeats: RepeatFilter;
  private readonly cardTimeoutMs: number;
  private createNfc: CreateNfc | undefined;
  private nfc: NfcContext | undefined;
  private readonly devices = new Set<NfcDevice>();
  private running = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private isConnected = false;
  private downReported = false;

  constructor(
    private readonly cfg: NfcReaderConfig,
    private readonly deps: NfcReaderDeps,
  ) {
    super();
    this.id = cfg.id;
    this.direction = cfg.direction;
    this.clock = deps.clock ?? Date.now;
    this.backoff = new Backoff(deps.backoff);
    this.repeats = new RepeatFilter(cfg.repeatMs);
    this.cardTimeoutMs = deps.cardTimeoutMs ?? 2_000;
    this.createNfc = deps.createNfc;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Resolves after the first pcscd probe; a missing pcscd is retried, not thrown. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // @pokusew/pcsclite 0.6 runs a reader's status callback holding the
    // reader's (non-recursive) mutex, and the microtasks queued by that
    // callback run before it unlocks; CardReader.close() takes the same mutex.
    // So a stop() reached from a card event's promise chain (a card.off, a
    // credential) would deadlock the event loop for good. Closing from a
    // fresh macrotask is always outside such a callback.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.dropContext();
    if (this.isConnected) this.setStatus(false, 'stopped');
  }

  private async connect(): Promise<void> {
    const path = this.deps.socketPath ?? pcscdSocketPath();
    const up = await probePcscd(path, this.deps.probeTimeoutMs);
    if (!this.running) return;
    if (!up) {
      this.down('pcscd not running');
      return;
    }
    try {
      this.createNfc ??= loadNfcPcsc();
      const nfc = this.createNfc();
      nfc.on('reader', (device: NfcDevice) => this.onDevice(nfc, device));
      nfc.on('error', (err: Error) => this.onContextError(nfc, err));
      this.nfc = nfc;
    } catch (err) {
      this.down(`pcsc unavailable: ${(err as Error).message}`);
      return;
    }
    this.backoff.reset();
    this.deps.log.info({ reader: this.id }, 'pcscd connected');
    if (!this.downReported && !this.isConnected) this.setStatus(false, 'pcscd up, no reader attached');
  }

  private onContextError(nfc: NfcContext, err: Error): void {
    if (nfc !== this.nfc) return;
    this.deps.log.warn({ reader: this.id, err }, 'pcsc context failed');
    this.dropContext();
    this.down('pcscd connection lost');
  }

  private dropContext(): void {
    const nfc = this.nfc;
    this.nfc = undefined;
    for (const device of this.devices) {
      device.removeAllListeners('card');
      device.removeAllListeners('end');
      try {
        device.reader.close();
      } catch (err) {
        this.deps.log.debug({ reader: this.id, err }, 'pcsc reader close failed');
      }
    }
    this.devices.clear();
    if (!nfc) return;
    nfc.removeAllListeners('reader');
    // Late errors from the dying context must still have a listener.
    nfc.removeAllListeners('error');
    nfc.on('error', () => {});
    try {
      nfc.close();
    } catch (err) {
      this.deps.log.debug({ reader: this.id, err }, 'pcsc close failed');
    }
  }

  private down(detail: string): void {
    if (!this.running) return;
    if (this.isConnected || !this.downReported) {
      this.deps.log.warn({ reader: this.id, detail }, 'pcsc reader down, retrying');
      this.setStatus(false, detail);
    }
    const delay = this.backoff.next();
    this.deps.log.debug({ reader: this.id, detail, retryMs: delay }, 'pcsc retry scheduled');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) void this.connect();
    }, delay);
  }

  private onDevice(nfc: NfcContext, device: NfcDevice): void {
    // Always: a Reader 'error' without a listener would crash the process,
    // and autoProcessing on an ignored reader would emit such errors.
    device.autoProcessing = false;
    device.on('error', (err: Error) =>
      this.deps.log.debug({ reader: this.id, pcscReader: device.name, err }, 'pcsc reader error'),
    );
    if (nfc !== this.nfc) return;
    if (this.cfg.name && !device.name.includes(this.cfg.name)) {
      this.deps.log.info({ reader: this.id, pcscReader: device.name }, 'pcsc reader ignored (name filter)');
      return;
    }
    this.devices.add(device);
    this.watchCards(device);
    device.once('end', () => {
      if (!this.devices.delete(device)) return;
      this.deps.log.info({ reader: this.id, pcscReader: device.name }, 'pcsc reader detached');
      if (this.devices.size === 0 && this.isConnected) this.setStatus(false, `reader detached: ${device.name}`);
    });
    this.deps.log.info({ reader: this.id, pcscReader: device.name }, 'pcsc reader attached');
    if (!this.isConnected) this.setStatus(true, `reader attached: ${device.name}`);
  }

  private watchCards(device: NfcDevice): void {
    let present = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const clearConnectTimer = () => {
      if (connectTimer) clearTimeout(connectTimer);
      connectTimer = undefined;
    };
    device.reader.on('status', (status: { state: number }) => {
      const now = (status.state & device.reader.SCARD_STATE_PRESENT) !== 0;
      if (now && !present) {
        clearConnectTimer();
        connectTimer = setTimeout(() => this.reject('card not readable: no connection in time'), this.cardTimeoutMs);
      } else if (!now) {
        clearConnectTimer();
      }
      present = now;
    });
    // nfc-pcsc emits connect failures as `emit(err)` (Error as event name).
    const emit = device.emit.bind(device);
    device.emit = ((event: string | symbol, ...args: unknown[]) => {
      if ((event as unknown) instanceof Error) {
        clearConnectTimer();
        this.reject(`card not readable: ${(event as unknown as Error).message}`);
        return true;
      }
      return emit(event, ...args);
    }) as typeof device.emit;
    device.on('card', () => {
      clearConnectTimer();
      void this.readCard(device);
    });
    device.on('card.off', clearConnectTimer);
    device.once('end', clearConnectTimer);
  }

  private async readCard(device: NfcDevice): Promise<void> {
    const result = await readUid((apdu, max) => device.transmit(apdu, max), this.cardTimeoutMs);
    // `at` is when the UID bytes arrived (the GET DATA answer), as for a serial line.
    const at = this.clock();
    if (!this.running) return;
    if (!result.ok) {
      this.reject(result.reason);
      return;
    }
    if (!this.repeats.accept(`card:${result.uid}`, at)) {
      this.deps.log.debug({ reader: this.id }, 'repeated read folded into previous tap');
      return;
    }
    this.emit('credential', { kind: 'card', uid: result.uid }, at);
  }

  private reject(reason: string): void {
    this.deps.log.warn({ reader: this.id, reason }, 'card read rejected');
    this.emit('rejected', reason, this.clock());
  }

  /** One status per change: an outage seen twice (reader 'end' and context 'error' race) is reported once. */
  private setStatus(connected: boolean, detail: string): void {
    this.isConnected = connected;
    this.downReported = !connected;
    this.emit('status', connected, detail);
  }
}
