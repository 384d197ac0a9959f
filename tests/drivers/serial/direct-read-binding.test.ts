import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinuxPortBinding } from '@serialport/bindings-cpp';
import { readNow, writeNow } from '../../../src/drivers/serial/direct-read-binding.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A non-blocking fd (a FIFO) standing in for a serial port, with a poller that reports readable on request. */
function fakePort() {
  const dir = mkdtempSync(join(tmpdir(), 'direct-read-'));
  dirs.push(dir);
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  let waits = 0;
  const port = {
    fd: fd as number | null,
    get isOpen() {
      return this.fd !== null;
    },
    poller: {
      once(_ev: string, cb: (err: Error | null) => void) {
        waits++;
        setTimeout(() => cb(null), 5);
      },
    },
  };
  return { port: port as unknown as LinuxPortBinding, writer, waits: () => waits, close: () => { closeSync(fd); closeSync(writer); } };
}

describe('direct-read binding: readNow', () => {
  it('returns what is there at once, and waits for the poller (no spin) when nothing is', async () => {
    const f = fakePort();
    writeSync(f.writer, 'ABC\r\n');
    const buf = Buffer.alloc(64);
    expect(await readNow(f.port, buf, 0, 64)).toMatchObject({ bytesRead: 5 });
    expect(buf.subarray(0, 5).toString()).toBe('ABC\r\n');
    expect(f.waits()).toBe(0);
    const pending = readNow(f.port, buf, 0, 64); // EAGAIN: waits for readable
    setTimeout(() => writeSync(f.writer, 'DEF\n'), 20);
    expect(await pending).toMatchObject({ bytesRead: 4 });
    expect(f.waits()).toBeGreaterThanOrEqual(1);
    expect(f.waits()).toBeLessThan(10);
    f.close();
  });

  it('a closed port is a canceled read; a bad fd is a disconnect, as upstream marks them', async () => {
    const f = fakePort();
    f.close();
    await expect(readNow(f.port, Buffer.alloc(8), 0, 8)).rejects.toMatchObject({ code: 'EBADF', disconnect: true });
    (f.port as unknown as { fd: number | null }).fd = null;
    await expect(readNow(f.port, Buffer.alloc(8), 0, 8)).rejects.toMatchObject({ canceled: true });
  });
});

describe('direct-read binding: writeNow', () => {
  it('writes the whole buffer on the calling thread; a bad fd is a disconnect, as upstream marks it', async () => {
    const f = fakePort();
    const out = { ...f.port, fd: f.writer } as unknown as LinuxPortBinding;
    Object.defineProperty(out, 'isOpen', { get: () => true });
    await writeNow(out, Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]));
    const buf = Buffer.alloc(64);
    const n = readSync(f.port.fd!, buf, 0, 64, null);
    expect(buf.subarray(0, n).toString('hex')).toBe('aaaaaa966900032001' + '22');
    f.close();
    await expect(writeNow(out, Buffer.from('x'))).rejects.toMatchObject({ code: 'EBADF', disconnect: true });
  });
});
