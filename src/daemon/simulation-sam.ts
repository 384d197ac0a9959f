/**
 * `npm start`'s simulated resident ID card readers: two socat pty pairs with
 * a simulated SAM module (drivers/readers/sam/sim-module.ts) on the far end
 * of each, so the gate's `idcard` reader and the reception desk's `desk`
 * reader run the real driver over the real serial path. Typing an ID number
 * on the terminal places a card on the gate's reader (lifted again after
 * 1.5 s); `!desk` places one on the desk reader.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SimSamModule } from '../drivers/readers/sam/sim-module.js';
import type { CardFields } from '../drivers/readers/sam/base-info.js';
import { startPtyPair, type PtyPair } from './sim-pty.js';

export interface SimSamPaths {
  gate: string;
  desk: string;
}

/** Where the simulated readers' device links go; undefined when socat is not installed. */
export function simSamPaths(dataDir: string): SimSamPaths | undefined {
  const found = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) return undefined;
  const dir = join(resolve(dataDir), 'sam');
  return { gate: join(dir, 'idcard-reader'), desk: join(dir, 'desk-reader') };
}

const DAY = 86_400_000;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** A card as the simulated module holds it; the birth date is taken from the number, as on a real card. */
export function simCard(number: string, nowMs: number, opts: { name?: string; expired?: boolean } = {}): CardFields {
  const validTo = opts.expired ? nowMs - 30 * DAY : nowMs + 5 * 365 * DAY;
  return {
    name: opts.name ?? '演示访客',
    sex: Number(number[16]) % 2 === 1 ? '1' : '2',
    nation: '01',
    birthDate: number.slice(6, 14),
    address: '北京市东城区演示路1号',
    number,
    authority: '演示市公安局',
    validFrom: ymd(validTo - 10 * 365 * DAY),
    validTo: ymd(validTo),
  };
}

export class SimSamReaders {
  private pairs: PtyPair[] = [];
  private modules: SimSamModule[] = [];
  private lift: NodeJS.Timeout | undefined;
  private deskLift: NodeJS.Timeout | undefined;
  gateModule: SimSamModule | undefined;
  deskModule: SimSamModule | undefined;

  constructor(private readonly paths: SimSamPaths) {}

  async start(): Promise<void> {
    const dir = resolve(this.paths.gate, '..');
    mkdirSync(dir, { recursive: true });
    const name = (p: string) => p.slice(dir.length + 1);
    for (const [path, set] of [
      [this.paths.gate, (m: SimSamModule) => (this.gateModule = m)],
      [this.paths.desk, (m: SimSamModule) => (this.deskModule = m)],
    ] as const) {
      const pair = await startPtyPair(dir, 5_000, { reader: name(path), sim: `${name(path)}.module` });
      this.pairs.push(pair);
      const m = new SimSamModule({ path: pair.simPath });
      await m.start();
      this.modules.push(m);
      set(m);
    }
  }

  async stop(): Promise<void> {
    if (this.lift) clearTimeout(this.lift);
    if (this.deskLift) clearTimeout(this.deskLift);
    for (const m of this.modules) await m.stop();
    for (const p of this.pairs) await p.stop();
    this.modules = [];
    this.pairs = [];
  }

  /** A card held on the gate's reader for `holdMs`, then lifted. */
  tap(card: CardFields, holdMs = 1_500): void {
    const m = this.gateModule;
    if (!m) return;
    if (this.lift) clearTimeout(this.lift);
    m.place(card);
    this.lift = setTimeout(() => m.remove(), holdMs);
  }

  /** A card on the desk reader for `holdMs` (long enough to press "Read ID card"). */
  desk(card: CardFields | undefined, holdMs = 30_000): void {
    const m = this.deskModule;
    if (!m) return;
    if (this.deskLift) clearTimeout(this.deskLift);
    if (!card) return m.remove();
    m.place(card);
    this.deskLift = setTimeout(() => m.remove(), holdMs);
  }
}
