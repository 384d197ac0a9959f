/**
 * The simulation profile: what `npm start` runs with no config. Simulated GPIO
 * and a terminal reader, data under ./data/, a demo whitelist seeded on first
 * run, and a narrator that prints each decision and each output change so a
 * newcomer sees the product work in a minute.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parseConfig, type Config } from '../config.js';
import type { Store } from '../store/index.js';
import type { DigitalOutput } from '../drivers/types.js';
import type { Direction } from '../types.js';
import type { JournalEvent } from '../store/types.js';
import type { GateMode } from '../controller/reasons.js';
import { signPass } from '../credentials/pass.js';
import type { GateKey } from '../credentials/gate-key.js';

const DAY = 86_400_000;

/** `sam`: where the simulated SAM readers' device links are (socat available), else none. */
export function simulationConfig(dataDir: string, sam?: { gate: string; desk: string }, adminListen = '127.0.0.1:8080'): Config {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'id-hash.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  return parseConfig(
    {
      gate: { id: 'sim-gate', site: 'demo' },
      storage: { path: join(dir, 'gate.db') },
      privacy: { idHashKey: readFileSync(keyFile, 'utf8').trim() },
      readers: [
        { id: 'terminal', type: 'sim', direction: 'in' },
        ...(sam
          ? [
              { id: 'idcard', type: 'serial', direction: 'in', path: sam.gate, format: 'sam' },
              { id: 'desk', type: 'serial', use: 'desk', path: sam.desk, format: 'sam' },
            ]
          : []),
      ],
      gpio: {
        backend: 'sim',
        relays: { entry: { line: 17, pulseMs: 500 }, exit: { line: 27, pulseMs: 500 } },
        leds: { green: { line: 5 }, red: { line: 6 } },
        buzzer: { line: 13 },
        inputs: { passage: { line: 22 }, door: { line: 23 }, fireAlarm: { line: 24, activeLow: true } },
      },
      access: { passageTimeoutMs: 5_000 },
      admin: { listen: adminListen },
    },
    'simulation profile',
  );
}

/** A valid sample resident ID number (GB 11643 check digit correct). */
export const DEMO_ID_NUMBER = '11010519491231002X';

export interface DemoCredentials {
  staffCard: string;
  securityCard: string;
  visitorCard: string;
  escortedCard: string;
  blacklistedCard: string;
  visitorPass: string;
  expiredPass: string;
}

/** Seed the demo whitelist once (version 1), and (re)make the demo pass tokens. */
export function seedDemo(store: Store, key: GateKey, idKeyOf: (n: string) => string, nowMs: number): DemoCredentials {
  if (store.whitelist.version() === 0) {
    const iso = (ms: number) => new Date(ms).toISOString();
    store.whitelist.replaceAll(1, {
      people: [
        { id: 'p-staff-1', kind: 'staff', name: 'Demo Staff' },
        { id: 'p-sec-1', kind: 'security', name: 'Demo Guard' },
        { id: 'p-vis-1', kind: 'visitor', name: 'Demo Visitor', hostId: 'p-staff-1' },
        { id: 'p-vis-2', kind: 'visitor', name: 'Escorted Visitor', hostId: 'p-staff-1', escort: true },
        { id: 'p-black-1', kind: 'contractor', name: 'Banned Contractor' },
      ],
      schedules: [
        { id: 'office-hours', windows: [{ days: [1, 2, 3, 4, 5], from: '07:00', to: '20:00' }], holidays: [] },
      ],
      credentials: [
        { key: 'card:04A1B2C3', personId: 'p-staff-1', status: 'active' },
        { key: 'card:0A0B0C0D', personId: 'p-sec-1', status: 'active' },
        { key: 'card:11223344', personId: 'p-vis-1', status: 'active', validFrom: iso(nowMs - DAY), validTo: iso(nowMs + 7 * DAY), maxEntries: 10 },
        { key: idKeyOf(DEMO_ID_NUMBER), personId: 'p-vis-1', status: 'active', validFrom: iso(nowMs - DAY), validTo: iso(nowMs + 7 * DAY) },
        { key: 'card:55667788', personId: 'p-vis-2', status: 'active', validTo: iso(nowMs + 7 * DAY) },
        { key: 'card:DEADBEEF', personId: 'p-black-1', status: 'blacklisted' },
      ],
    });
  }
  const s = Math.floor(nowMs / 1000);
  return {
    staffCard: '04A1B2C3',
    securityCard: '0A0B0C0D',
    visitorCard: '11223344',
    escortedCard: '55667788',
    blacklistedCard: 'DEADBEEF',
    visitorPass: signPass({ pid: 'demo-pass', site: 'demo', nbf: s - 3600, exp: s + 7 * 86_400, max: 5 }, key.privateKey),
    expiredPass: signPass({ pid: 'demo-expired', site: 'demo', nbf: s - 3 * 86_400, exp: s - 86_400 }, key.privateKey),
  };
}

export function printWelcome(out: NodeJS.WritableStream, demo: DemoCredentials, opts: { dataDir: string; admin?: string; logFile: string; sam?: boolean }): void {
  const w = (s = '') => out.write(s + '\n');
  w('gate-controller: simulation profile (no config file given)');
  w(`  data: ${opts.dataDir}   logs (pino JSON): ${opts.logFile}`);
  if (opts.admin) w(`  admin page: http://${opts.admin}/  (sign in as "admin"; first-start password in ${opts.dataDir}/admin-initial-password)`);
  w('');
  w('Type what a reader would read, then Enter:');
  w(`  ${demo.staffCard.padEnd(20)} staff card            ${demo.securityCard.padEnd(10)} security card`);
  w(`  ${demo.visitorCard.padEnd(20)} visitor (7-day window) ${demo.escortedCard.padEnd(10)} visitor needing an escort (then tap staff)`);
  w(`  ${demo.blacklistedCard.padEnd(20)} blacklisted card      ${DEMO_ID_NUMBER} resident ID of the visitor`);
  w(`  a QR pass token       ${demo.visitorPass.slice(0, 32)}… (full token: ${opts.dataDir}/demo-pass.txt)`);
  w(`  an expired pass       see ${opts.dataDir}/demo-expired-pass.txt`);
  if (opts.sam) {
    w(`An ID number goes to the simulated SAM ID card reader "idcard" (binary protocol on a pty): the card is placed, read, lifted.`);
    w(`  !desk ${DEMO_ID_NUMBER}   put an ID card on the reception desk reader (admin page: Register → Read ID card)`);
    w('  !desk expired              an expired ID card on the desk reader     !desk off   take it away');
  } else {
    w('(socat not installed: no simulated SAM ID card readers; an ID number goes to the terminal reader)');
  }
  w('Simulated sensors: !pass (turnstile turned)  !door open|close  !fire on|off  !tamper  !mode normal|lockdown|emergency  !help');
  w('');
}

export interface SimControls {
  /** Place a card with this ID number on the simulated SAM reader; false when there is none. */
  idCard?(number: string): boolean;
  /** `!desk <number>|expired|off` */
  deskCard?(arg: string | undefined): string;
  passage(): void;
  door(open: boolean): void;
  fire(active: boolean): void;
  tamper(): void;
  setMode(mode: GateMode): void;
}

/**
 * The terminal: lines starting with "!" drive the simulated sensors, every
 * other line goes to the simulated reader as if it had read it. Reading starts
 * with start(), after the gate is up, so no early line is lost or misrouted.
 */
export class Terminal {
  readonly readerInput = new PassThrough();
  private rl: ReturnType<typeof createInterface> | undefined;

  constructor(
    private readonly input: Readable,
    private readonly out: NodeJS.WritableStream,
    private readonly controls: SimControls,
  ) {}

  async start(): Promise<void> {
    const rl = createInterface({ input: this.input, terminal: false });
    this.rl = rl;
    rl.on('line', (line) => this.line(line.trim()));
    rl.on('close', () => {
      this.readerInput.end();
      this.out.write('  (terminal input closed; the gate keeps running: Ctrl-C stops it)\n');
    });
  }

  async stop(): Promise<void> {
    this.rl?.close();
    this.rl = undefined;
  }

  private line(text: string): void {
    if (!text.startsWith('!')) {
      if (/^[0-9]{17}[0-9Xx]$/.test(text) && this.controls.idCard?.(text)) return;
      this.readerInput.write(text + '\n');
      return;
    }
    const [cmd, arg] = text.slice(1).split(/\s+/);
    try {
      switch (cmd) {
        case 'pass': this.controls.passage(); break;
        case 'door': this.controls.door(arg !== 'close'); break;
        case 'fire': this.controls.fire(arg !== 'off'); break;
        case 'tamper': this.controls.tamper(); break;
        case 'mode': this.controls.setMode((arg ?? '') as GateMode); break;
        case 'desk': this.out.write(`  ${this.controls.deskCard?.(arg) ?? 'no simulated desk reader'}\n`); break;
        default: this.out.write('  commands: !pass  !door open|close  !fire on|off  !tamper  !mode normal|lockdown|emergency\n');
      }
    } catch (err) {
      this.out.write(`  ! ${(err as Error).message}\n`);
    }
  }
}

/** One line per journal event, in words a newcomer understands. */
/** A reader's refusal of its input (the reason never holds personal data: ReaderEventMap). */
export function narrateRejected(readerId: string, reason: string): string {
  return `  (reader ${readerId} rejected the input: ${reason})`;
}

export function narrateEvent(ev: JournalEvent, pattern?: string): string {
  const line = describeEvent(ev);
  return pattern && ev.type === 'access' ? `${line}   [indicator: ${pattern}]` : line;
}

function describeEvent(ev: JournalEvent): string {
  const head = `#${String(ev.seq).padEnd(4)} ${ev.ts.slice(11, 23)}`;
  switch (ev.type) {
    case 'access': {
      const verdict = ev.granted ? 'GRANTED ' : 'DENIED  ';
      const who = ev.personId ? ` person=${String(ev.personId)}` : '';
      const escort = ev.escortedBy ? ` escortedBy=${String(ev.escortedBy)}` : '';
      return `${head} ${verdict} ${String(ev.reason).padEnd(18)} ${String(ev.direction).padEnd(3)} ${String(ev.credential)}${who}${escort}`;
    }
    case 'passage':
      return `${head} passage ${ev.passed ? 'done' : 'NOT passed (timeout)'} direction=${String(ev.direction)}`;
    case 'mode_changed':
      return `${head} MODE ${String(ev.from)} → ${String(ev.to)} (${String(ev.reason)}, by ${String(ev.operator)})`;
    default: {
      const { seq: _s, id: _i, ts: _t, gate: _g, type, prevHash: _p, hash: _h, ...rest } = ev;
      return `${head} ${type} ${JSON.stringify(rest)}`;
    }
  }
}

/**
 * Wrap a simulated relay so each change is printed (LED and buzzer patterns
 * are named on the event line instead: their blinking would drown the log).
 * Changes inside 80 ms are gathered on one line.
 */
export class OutputNarrator {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WritableStream) {}

  wrap(label: string, inner: DigitalOutput): DigitalOutput {
    const self = this;
    return {
      name: inner.name,
      start: () => inner.start(),
      stop: () => inner.stop(),
      get: () => inner.get(),
      set(active: boolean) {
        const was = inner.get();
        inner.set(active);
        if (was !== active) self.note(`${label} ${active ? 'on' : 'off'}`);
      },
    };
  }

  private note(text: string): void {
    this.pending.push(text);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.out.write(`        ↳ ${this.pending.join(' · ')}\n`);
      this.pending = [];
    }, 80);
  }
}

export function directionOf(s: string | undefined): Direction {
  return s === 'out' ? 'out' : 'in';
}

export function writeDemoTokens(dataDir: string, demo: DemoCredentials): void {
  writeFileSync(join(dataDir, 'demo-pass.txt'), demo.visitorPass + '\n');
  writeFileSync(join(dataDir, 'demo-expired-pass.txt'), demo.expiredPass + '\n');
}
