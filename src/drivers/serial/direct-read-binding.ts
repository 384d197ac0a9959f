/**
 * serialport's Linux binding with one change: how a read is done.
 *
 * Upstream reads with fs.read, so every chunk of a line makes a round trip
 * through the libuv thread pool: the poller sees the fd readable on the
 * gate's thread, a pool thread reads, the gate's thread gets the bytes. On
 * a 2-core Pi that hop is where a tap's latency tail comes from (the pool
 * thread waits for a core). The fd is opened non-blocking, so once the
 * poller says readable a readSync on the gate's thread returns at once with
 * what is there, or EAGAIN when nothing is. Open, close, write, the poller
 * and the error handling (EAGAIN waits for readable; EBADF/ENXIO mark a
 * disconnect, as upstream's unix-read.ts does) stay serialport's.
 *
 * Writes the same way (writeNow, what upstream's unix-write.ts does with
 * writeSync for fs.write): a SAM reader's command goes out on the gate's
 * thread instead of waiting for a pool thread, once per command, three
 * commands per card.
 */
import { readSync, writeSync } from 'node:fs';
import { BindingsError, LinuxBinding, type LinuxBindingInterface, type LinuxPortBinding } from '@serialport/bindings-cpp';

type ReadResult = { buffer: Buffer; bytesRead: number };

function readable(port: LinuxPortBinding): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    port.poller.once('readable', (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** What upstream's unixRead does, with readSync for fs.read. */
export async function readNow(port: LinuxPortBinding, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
    try {
      const bytesRead = readSync(port.fd, buffer, offset, length, null);
      if (bytesRead > 0) return { bytesRead, buffer };
      // 0: nothing to hand over; wait for data rather than spin.
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
      if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK' && e.code !== 'EINTR') {
        if (e.code === 'EBADF' || e.code === 'ENXIO' || e.code === 'UNKNOWN' || e.errno === -1) e.disconnect = true;
        throw e;
      }
    }
    if (!port.isOpen) throw new BindingsError('Port is not open', { canceled: true });
    await readable(port);
  }
}

function writable(port: LinuxPortBinding): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    port.poller.once('writable', (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** What upstream's unixWrite does, with writeSync for fs.write. */
export async function writeNow(port: LinuxPortBinding, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    if (!port.isOpen || port.fd === null) throw new Error('Port is not open');
    try {
      offset += writeSync(port.fd, buffer, offset, buffer.length - offset);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
      if (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK' || e.code === 'EINTR') {
        if (!port.isOpen) throw new Error('Port is not open');
        await writable(port);
        continue;
      }
      if (e.code === 'EBADF' || e.code === 'ENXIO' || e.code === 'UNKNOWN' || e.errno === -1) e.disconnect = true;
      throw e;
    }
  }
}

export const DirectReadLinuxBinding: LinuxBindingInterface = {
  list: () => LinuxBinding.list(),
  async open(options) {
    const port = await LinuxBinding.open(options);
    port.read = (buffer: Buffer, offset: number, length: number) => readNow(port, buffer, offset, length);
    port.write = (buffer: Buffer) => {
      if (!Buffer.isBuffer(buffer)) return Promise.reject(new TypeError('"buffer" is not a Buffer'));
      if (!port.isOpen) return Promise.reject(new Error('Port is not open'));
      // drain() waits on writeOperation, as upstream's write sets it (a private field in its types).
      const state = port as unknown as { writeOperation: Promise<void> | null };
      const op: Promise<void> = writeNow(port, buffer).finally(() => {
        if (state.writeOperation === op) state.writeOperation = null;
      });
      state.writeOperation = op;
      return op;
    };
    return port;
  },
};
