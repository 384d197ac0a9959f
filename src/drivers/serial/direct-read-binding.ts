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
 */
import { readSync } from 'node:fs';
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

export const DirectReadLinuxBinding: LinuxBindingInterface = {
  list: () => LinuxBinding.list(),
  async open(options) {
    const port = await LinuxBinding.open(options);
    port.read = (buffer: Buffer, offset: number, length: number) => readNow(port, buffer, offset, length);
    return port;
  },
};
