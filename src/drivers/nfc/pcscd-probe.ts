/**
 * Does pcscd answer? @pokusew/pcsclite's native constructor loops on
 * SCardEstablishContext while pcscd is absent (SCARD_E_NO_SERVICE), blocking
 * the whole event loop (src/pcsclite.cpp, PCSCLite::PCSCLite). So before any
 * `new NFC()` we connect to pcscd's unix socket ourselves, asynchronously and
 * with a timeout: no answer → report the reader down and try again later.
 */
import { connect } from 'node:net';

/** pcsc-lite's client socket; PCSCLITE_CSOCK_NAME overrides it as in libpcsclite. */
export function pcscdSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCSCLITE_CSOCK_NAME || '/run/pcscd/pcscd.comm';
}

export function probePcscd(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
