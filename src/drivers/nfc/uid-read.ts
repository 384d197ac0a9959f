/**
 * Reading a card's UID with the PC/SC GET DATA command (PC/SC part 3,
 * FF CA 00 00 00). nfc-pcsc's autoProcessing sends SELECT AID to ISO 14443-4
 * cards and phones and fails with "AID was not set" (pokusew/nfc-pcsc#65,
 * #154), so the driver turns it off and sends GET DATA itself: every
 * contactless card answers it with its UID (a phone with a random one).
 */
import { MAX_UID_BYTES, MIN_UID_BYTES } from '../readers/formats/result.js';

export const GET_DATA_UID = Buffer.from([0xff, 0xca, 0x00, 0x00, 0x00]);
/** UID (up to 10 bytes on ISO 14443, more allowed) + SW1 SW2. */
export const GET_DATA_MAX_RESPONSE = MAX_UID_BYTES + 2;

export type UidResult = { ok: true; uid: string } | { ok: false; reason: string };

export function parseGetDataResponse(res: Buffer): UidResult {
  if (res.length < 2) return { ok: false, reason: 'GET DATA: response too short' };
  const sw = res.readUInt16BE(res.length - 2);
  if (sw !== 0x9000) {
    return { ok: false, reason: `GET DATA failed: SW ${sw.toString(16).toUpperCase().padStart(4, '0')}` };
  }
  const uid = res.subarray(0, res.length - 2);
  if (uid.length < MIN_UID_BYTES || uid.length > MAX_UID_BYTES) {
    return { ok: false, reason: `GET DATA: ${uid.length}-byte UID, expected ${MIN_UID_BYTES}..${MAX_UID_BYTES}` };
  }
  return { ok: true, uid: uid.toString('hex').toUpperCase() };
}

export type Transmit = (apdu: Buffer, maxResponse: number) => Promise<Buffer>;

/** GET DATA with a deadline: a wedged pcscd or reader must not wedge the tap. */
export async function readUid(transmit: Transmit, timeoutMs: number): Promise<UidResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<UidResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'GET DATA: no answer in time' }), timeoutMs);
  });
  try {
    const answer = transmit(GET_DATA_UID, GET_DATA_MAX_RESPONSE).then(
      (res) => parseGetDataResponse(res),
      (err: unknown) => ({ ok: false, reason: `GET DATA: ${(err as Error).message}` }) as UidResult,
    );
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
