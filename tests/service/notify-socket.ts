/**
 * A datagram socket standing in for systemd's NOTIFY_SOCKET: a python3
 * process bound to a temp AF_UNIX path that, like PID 1, closes the fd a
 * BARRIER=1 message carries (else systemd-notify waits out its timeout).
 * Every datagram comes back as one entry of `messages`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../helpers/until.js';

const RECEIVER = `
import socket, sys, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace("\\n", "|"), flush=True)
`;

export interface NotifySocket {
  path: string;
  /** Datagrams received, newlines inside one datagram shown as '|'. */
  messages: string[];
  waitFor(predicate: (msgs: string[]) => boolean, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function openNotifySocket(): Promise<NotifySocket> {
  const dir = mkdtempSync(join(tmpdir(), 'notify-'));
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-u', '-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let listening!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    listening = resolve;
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify receiver exited early (${code})`)));
    setTimeout(() => reject(new Error('notify receiver did not start in 10 s')), 10_000).unref();
  });
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'LISTENING') listening();
      else messages.push(line);
    }
  });
  await ready;
  return {
    path,
    messages,
    async waitFor(predicate, timeoutMs) {
      await until(() => predicate(messages), { what: 'sd_notify messages', timeoutMs, diag: () => `got ${JSON.stringify(messages)}` });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
