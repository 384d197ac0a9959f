/**
 * Server-sent events for the live page. The gate's typed events arrive
 * synchronously at the end of its hot path; the hub defers its own work
 * (a name lookup, JSON, socket writes) to the next turn so the gate returns
 * at once. A client that stops reading is dropped rather than buffered.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { GateControl, ReaderState } from '../controller/gate-api.js';
import type { GateMode } from '../controller/reasons.js';
import type { JournalEvent } from '../store/types.js';
import type { AlertBoard } from './alerts.js';
import type { LiveView } from './live-view.js';

const HEARTBEAT_MS = 20_000;
/** Unsent bytes above which a client is considered gone. */
const MAX_BUFFERED = 1024 * 1024;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly offs: Array<() => void> = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { gate: GateControl; live: LiveView; alerts: AlertBoard; log: Logger },
  ) {}

  start(): void {
    const { gate } = this.deps;
    const onEvent = (ev: JournalEvent) => setImmediate(() => this.onEvent(ev));
    const onAlert = (ev: JournalEvent) => setImmediate(() => this.onAlert(ev));
    const onMode = (mode: GateMode) => setImmediate(() => this.broadcast('mode', { mode }));
    const onReader = (r: ReaderState) => setImmediate(() => this.broadcast('reader', r));
    gate.on('event', onEvent);
    gate.on('alert', onAlert);
    gate.on('mode', onMode);
    gate.on('reader', onReader);
    this.offs.push(
      () => gate.off('event', onEvent),
      () => gate.off('alert', onAlert),
      () => gate.off('mode', onMode),
      () => gate.off('reader', onReader),
    );
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  /** Takes over a raw response (the route has hijacked the reply). */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Tell proxies (nginx) not to buffer: a tap must show in under a second.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private onEvent(ev: JournalEvent): void {
    try {
      const item = this.deps.live.item(ev);
      // Alerts are remembered whether or not a page is open.
      if (item.alert) this.deps.alerts.raise(ev.seq);
      this.broadcast('journal', item);
    } catch (err) {
      this.deps.log.error({ err, seq: ev.seq }, 'live event could not be shown');
    }
  }

  /** The gate's `alert`: the same isAlert (controller/alerts.ts) as the items' flag; raise() ignores a seq already open. */
  private onAlert(ev: JournalEvent): void {
    try {
      this.deps.alerts.raise(ev.seq);
      this.broadcast('alert', { ...this.deps.live.item(ev), alert: true });
    } catch (err) {
      this.deps.log.error({ err, seq: ev.seq }, 'alert could not be shown');
    }
  }

  private broadcast(name: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(chunk);
    }
  }
}
