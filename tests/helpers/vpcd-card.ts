/**
 * A virtual contactless card for pcscd's vsmartcard-vpcd driver.
 *
 * The vpcd driver inside pcscd LISTENS on 127.0.0.1:VPCD_PORT (the port pair
 * tests/helpers/pcscd.ts picks and writes into pcscd's reader.conf.d; slot 1
 * is VPCD_PORT + 1); the card is the TCP client. Inserting the card =
 * connecting, removing it = closing the socket. Framing both ways: a 2-byte
 * big-endian length, then the payload. A 1-byte payload from vpcd is a
 * control code (0 power off, 1 power on, 2 reset: no answer; 4: answer the
 * ATR); anything longer is a command APDU, answered with a response APDU.
 * This card answers GET DATA (FF CA 00 00 00) with its UID + 90 00 and every
 * other APDU with 6A 81 (function not supported).
 */
import { connect, type Socket } from 'node:net';
import { VPCD_PORT } from './pcscd.js';

/** A MIFARE-style contactless ATR as PC/SC part 3 builds it (byte 5 = 0x4F). */
export const CONTACTLESS_ATR = Buffer.from('3B8F8001804F0CA000000306030001000000006A', 'hex');
const GET_DATA_UID = Buffer.from('FFCA000000', 'hex');

export interface VirtualCardOptions {
  uid: string;
  atr?: Buffer;
  host?: string;
  port?: number;
  /** Status word for GET DATA; anything but 9000 makes the UID unreadable. */
  getDataSw?: number;
}

export class VirtualCard {
  /** Command APDUs received, in order (tests assert what the driver sent). */
  readonly apdus: Buffer[] = [];
  /**
   * When (performance.now()) vpcd asked for the ATR: pcscd's presence check,
   * every ~0.4 s while the card is in (vpcd.c, vicc_present). A poll after a
   * moment T proves pcscd looked at the card again after T.
   */
  readonly polls: number[] = [];
  private socket: Socket | undefined;
  private pending = Buffer.alloc(0);
  /** Set while leave() waits for vpcd's next presence check. */
  private leaving: (() => void) | undefined;

  constructor(private readonly opts: VirtualCardOptions) {}

  get inserted(): boolean {
    return this.socket !== undefined;
  }

  /** Put the card on the reader; resolves once vpcd accepted the connection. */
  insert(timeoutMs = 5_000): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port ?? VPCD_PORT });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`vpcd did not accept the card within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        this.pending = Buffer.alloc(0);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        if (this.socket === socket) this.socket = undefined;
        reject(err);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
      socket.on('data', (chunk) => this.onData(socket, chunk));
    });
  }

  /**
   * Take the card off the reader once pcscd has seen it go: the card answers
   * vpcd's next presence check with an empty ATR, which vpcd reports to
   * pcscd as "no card" (vpcd.c, vicc_present: an ATR of length 0 is no
   * card; vsmartcard-vpcd 3.3 then stops polling that connection), and only
   * then drops the connection. remove() just drops it, which pcscd notices at
   * some later poll.
   */
  async leave(timeoutMs = 5_000): Promise<void> {
    if (!this.socket) return;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`vpcd did not poll the leaving card within ${timeoutMs} ms`)), timeoutMs);
        this.leaving = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    } finally {
      this.leaving = undefined;
      await this.remove();
    }
  }

  /** Take the card off the reader. */
  async remove(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private onData(socket: Socket, chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + len) return;
      const payload = this.pending.subarray(2, 2 + len);
      this.pending = this.pending.subarray(2 + len);
      const leaving = payload.length === 1 && payload[0] === 4 ? this.leaving : undefined;
      const answer = this.answer(payload);
      if (answer) socket.write(frame(answer), () => leaving?.());
    }
  }

  private answer(payload: Buffer): Buffer | undefined {
    if (payload.length === 1) {
      if (payload[0] !== 4) return undefined;
      this.polls.push(performance.now());
      return this.leaving ? Buffer.alloc(0) : (this.opts.atr ?? CONTACTLESS_ATR);
    }
    this.apdus.push(Buffer.from(payload));
    if (payload.equals(GET_DATA_UID)) {
      const sw = this.opts.getDataSw ?? 0x9000;
      const swBytes = Buffer.from([sw >> 8, sw & 0xff]);
      return sw === 0x9000 ? Buffer.concat([Buffer.from(this.opts.uid, 'hex'), swBytes]) : swBytes;
    }
    return Buffer.from([0x6a, 0x81]);
  }
}

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}
