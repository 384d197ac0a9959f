/**
 * `qr` format: a visitor pass token "GP1.<base64url body>.<base64url sig>" as
 * a QR scanner types it. Only the shape is checked here; the signature and
 * the body are the controller's business (verifyPass).
 */
import { rejected, type ParseResult } from './result.js';

export const PASS_PREFIX = 'GP1.';
const SHAPE = /^GP1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function parseQrPass(line: string): ParseResult {
  const text = line.trim();
  if (!text.startsWith(PASS_PREFIX)) return rejected('bad qr: not a GP1 pass');
  if (!SHAPE.test(text)) return rejected('bad qr: malformed GP1 token');
  return { ok: true, cred: { kind: 'pass', token: text } };
}
