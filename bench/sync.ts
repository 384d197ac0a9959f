/**
 * bench/sync — the gate's MQTT sync against a real mosquitto, in one run:
 *   1. a backlog of events drained to a collector that acks as it stores
 *      (time until the gate's outbox is empty; lost and duplicated events);
 *   2. delta publish → applied at the gate, p99 over many deltas;
 *   3. a retained whitelist snapshot of N credentials fetched, hash-checked
 *      and applied, while the real hot path (Gate.present) keeps deciding
 *      every 2 ms: the worst decision latency during the apply (from the
 *      manifest's publication to whitelist_applied), counted from when the
 *      tap was due (so event-loop stalls are included), not only its own run;
 *      also split at the moment the last chunk is stored: the chunk fetch
 *      (MQTT, checks, chunk storage) and the apply proper (staging, swap).
 *
 * What is measured is the GATE's event loop: this process holds only the
 * gate (SyncService + Gate + store + checkpointer worker). Central's side of
 * step 3 — building, serializing, signing and publishing the chunks, and
 * collecting and acking the events the decisions make — runs in a child
 * process (this file with --publisher), as gatectl would on another
 * machine; mosquitto is a third process. Steps 1–2 still publish and
 * collect from here (small messages). The idle baseline is the same decision loop
 * before the manifest, after the first (cold) decision (reported on its
 * own), for about as long as the apply takes (20 s; 3 s with --quick): a
 * maximum over 500 decisions says little beside one over 10,000.
 *
 *   npm run bench:sync               100k events, 200 deltas, 1M credentials
 *   npm run bench:sync -- --quick    20k events, 50 deltas, 100k credentials (< 60 s)
 * The last line is one JSON object with the figures.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { parseConfig } from '../src/config.js';
import { Gate } from '../src/controller/gate.js';
import { SimOutput } from '../src/drivers/gpio/index.js';
import type { GpioSet } from '../src/drivers/types.js';
import { silentLogger } from '../src/log.js';
import { openStore, WalCheckpointer } from '../src/store/index.js';
import type { JournalEvent } from '../src/store/types.js';
import { noNagle } from '../src/net.js';
import { SyncService } from '../src/sync/service.js';
import { envelopeBytes, signEnvelope } from '../src/sync/protocol/envelope.js';
import { gateTopics, siteTopics } from '../src/sync/protocol/topics.js';

const quick = process.argv.includes('--quick');
const BACKLOG = quick ? 20_000 : 100_000;
const DELTAS = quick ? 50 : 200;
const SNAPSHOT = quick ? 100_000 : 1_000_000;
/** Records per chunk (people + credentials): ~100 KB retained messages. */
const PER_CHUNK = 1_000;
const WHITELIST = 10_000;
/** The idle baseline's length: about the apply's. */
const IDLE_MS = quick ? 3_000 : 20_000;

const uid = (i: number) => (0x10000000 + i).toString(16).toUpperCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startBroker(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // set_tcp_nodelay: as the README asks of a site's broker (Nagle's delayed ACKs otherwise add 40 ms to deltas and commands).
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = tcpConnect({ host: '127.0.0.1', port }).once('connect', () => (s.destroy(), r(true))).once('error', () => r(false));
    });
    if (ok) return { url: `mqtt://127.0.0.1:${port}`, child };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('mosquitto did not start');
}

function simGpio(): GpioSet {
  const clock = () => Date.now();
  const o = (n: string) => new SimOutput(n, { clock });
  return { outputs: { entry: o('entry'), exit: o('exit'), green: o('green'), red: o('red'), buzzer: o('buzzer') }, inputs: {}, start: async () => {}, stop: async () => {} };
}

/**
 * This thread's time on a CPU and time runnable but waiting for one, in ms
 * (Linux schedstat; NaN elsewhere). Read at each decision, they split a slow
 * one between running, "not given a core" and the rest (blocked in a system
 * call: disk writes, locks). The CPU time is the kernel's per-thread
 * count, which a running thread only catches up at each scheduler tick
 * (4 ms at HZ=250): it is right to about a tick; the run-queue wait is
 * counted at each switch and is exact. In a VM it also holds the time a
 * woken thread sat on a halted vCPU until the hypervisor resumed it
 * (perf sched, 2026-11-24: 3.2-3.3 ms with that core in its idle task).
 */
function schedMs(): { cpu: number; wait: number } {
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { cpu: Number(cpu) / 1e6, wait: Number(wait) / 1e6 };
  } catch {
    return { cpu: NaN, wait: NaN };
  }
}

/**
 * Where a decision's latency went, from when it was due to when it ended:
 * V8 GC pauses, time on a CPU and time waiting for one (since the previous
 * decision ended, which covers the window). latency - cpu - runqueue is time
 * the thread was blocked.
 */
interface Split { latency_ms: number; gc_ms: number; cpu_ms: number; runqueue_ms: number }

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0;
}

/** Parent → publisher child: what to build; then 'manifest' (publish it) and 'exit'. */
interface PublishJob { url: string; keyPem: string; version: number; credentials: number }
type PublisherReply = { ready: true; chunks: number; publishS: number } | { manifest: true } | { error: string };

/** The central side, in a child process: its JSON, signing and MQTT work never runs on the gate's loop. */
async function startPublisher(url: string, keyPem: string, version: number): Promise<{ chunks: number; publishS: number; publishManifest: () => Promise<void>; stop: () => Promise<void> }> {
  const child = fork(process.argv[1]!, ['--publisher'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<PublisherReply>((resolve, reject) => {
    child.once('message', (m) => resolve(m as PublisherReply));
    child.once('exit', (code) => reject(new Error(`snapshot publisher exited (${code})`)));
  });
  const fail = (r: PublisherReply): never => {
    child.kill('SIGKILL');
    throw new Error(`snapshot publisher: ${'error' in r ? r.error : JSON.stringify(r)}`);
  };
  child.send({ url, keyPem, version, credentials: SNAPSHOT } satisfies PublishJob);
  const ready = await next();
  if (!('ready' in ready)) return fail(ready);
  return {
    chunks: ready.chunks,
    publishS: ready.publishS,
    publishManifest: async () => {
      const reply = next();
      child.send('manifest');
      const r = await reply;
      if (!('manifest' in r)) fail(r);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.send('exit');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

async function runPublisher(): Promise<void> {
  const job = await new Promise<PublishJob>((r) => process.once('message', (m) => r(m as PublishJob)));
  const key = createPrivateKey(job.keyPem);
  const st = siteTopics('s1');
  const client = await mqtt.connectAsync(job.url, { protocolVersion: 5, clientId: 'bench-central-snapshot' });
  noNagle(client); // central's side, as gatectl connects
  // Central's collector for step 3 lives here too: acking the decisions'
  // events (an Ed25519 signature each) is central's work, not the gate's.
  const gt = gateTopics('s1', 'g1');
  client.on('message', (topic, payload) => {
    if (topic !== gt.events) return;
    const batch = JSON.parse(payload.toString()) as JournalEvent[];
    const upTo = batch[batch.length - 1]?.seq;
    if (upTo !== undefined) void client.publishAsync(gt.eventsAck, envelopeBytes(signEnvelope({ upTo }, 'k1', key)), { qos: 1 });
  });
  await client.subscribeAsync({ [gt.events]: { qos: 1 } });
  const hash = createHash('sha256');
  const perPerson = PER_CHUNK / 2;
  const chunks = Math.ceil(job.credentials / perPerson);
  const t0 = performance.now();
  for (let c = 0; c < chunks; c++) {
    const ps = [];
    const cs = [];
    for (let i = c * perPerson; i < Math.min(job.credentials, (c + 1) * perPerson); i++) {
      ps.push({ id: `s${i}`, kind: 'staff', name: `S ${i}` });
      cs.push({ key: `card:${uid(i)}`, personId: `s${i}`, status: 'active' });
    }
    const env = signEnvelope({ version: job.version, index: c, people: ps, credentials: cs, schedules: [] }, 'k1', key);
    hash.update(env.body);
    await client.publishAsync(st.chunk(c), envelopeBytes(env), { qos: 1, retain: true });
  }
  const manifest = envelopeBytes(signEnvelope({ version: job.version, chunks, sha256: hash.digest('hex'), createdAt: new Date().toISOString() }, 'k1', key));
  process.send!({ ready: true, chunks, publishS: (performance.now() - t0) / 1e3 } satisfies PublisherReply);
  process.on('message', (m) => {
    if (m === 'manifest') {
      client.publishAsync(st.manifest, manifest, { qos: 1, retain: true }).then(
        () => process.send!({ manifest: true } satisfies PublisherReply),
        (err: Error) => process.send!({ error: err.message } satisfies PublisherReply),
      );
    } else if (m === 'exit') {
      void client.endAsync(true).finally(() => process.exit(0));
    }
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
  const broker = await startBroker(dir);
  const central = generateKeyPairSync('ed25519');
  const key = central.privateKey;
  const signed = (body: unknown) => envelopeBytes(signEnvelope(body, 'k1', key));
  const config = parseConfig({
    gate: { id: 'g1', site: 's1' },
    storage: { path: join(dir, 'gate.db') },
    mqtt: { url: broker.url },
    central: { keys: { k1: central.publicKey.export({ type: 'spki', format: 'pem' }).toString() } },
    privacy: { idHashKey: 'ab'.repeat(32) },
  });
  const store = openStore({ path: config.storage.path, synchronous: 'normal', gateId: 'g1' });
  const checkpointer = new WalCheckpointer({ path: config.storage.path, log: silentLogger() });
  checkpointer.start();
  const people = Array.from({ length: WHITELIST }, (_, i) => ({ id: `w${i}`, kind: 'staff' as const, name: `W ${i}` }));
  store.whitelist.replaceAll(1, { people, credentials: people.map((p, i) => ({ key: `card:${uid(i)}`, personId: p.id, status: 'active' as const })) });
  let now = Date.now();
  const gate = new Gate({
    options: {
      gateId: 'g1', site: 's1', version: 'bench',
      access: { passageTimeoutMs: 8000, duplicateTapMs: 0, antiPassback: false, escortWindowMs: 30_000, doorHeldMs: 30_000 },
      pulseMs: { in: 500, out: 500 }, idHashKey: Buffer.from('ab'.repeat(32), 'hex'),
    },
    store, readers: [], gpio: simGpio(), passKeys: () => [], passKeyPem: '', log: silentLogger(), clock: () => now,
  });
  await gate.start();

  // 1. backlog ---------------------------------------------------------------
  const t0Fill = performance.now();
  for (let i = 0; i < BACKLOG; i++) store.journal.append({ type: 'access', reader: 'entry', direction: 'in', credential: 'card:****0001', granted: true, reason: 'GRANTED' }, Date.now());
  const fillS = (performance.now() - t0Fill) / 1e3;
  const gt = gateTopics('s1', 'g1');
  const st = siteTopics('s1');
  const collector = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'bench-central' });
  noNagle(collector); // central's side, as gatectl connects
  const seen = new Set<number>();
  let duplicates = 0;
  let contiguous = 0;
  let outOfOrder = 0;
  collector.on('message', (topic, payload) => {
    if (topic !== gt.events) return;
    const batch = JSON.parse(payload.toString()) as JournalEvent[];
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      if (i > 0 && e.seq !== batch[i - 1]!.seq + 1) outOfOrder++;
      if (seen.has(e.seq)) duplicates++;
      else seen.add(e.seq);
    }
    while (seen.has(contiguous + 1)) contiguous++;
    void collector.publishAsync(gt.eventsAck, signed({ upTo: contiguous }), { qos: 1 });
  });
  await collector.subscribeAsync({ [gt.events]: { qos: 1 } });
  // Wired as main.ts wires them: checkpoints wait for quiet, a snapshot apply waits for WAL room.
  gate.on('event', () => checkpointer.noteWrite());
  const sync = new SyncService({
    config, store, gate, log: silentLogger(), clock: () => Date.now(), version: 'bench', clockSynced: () => true,
    walRoom: () => checkpointer.room(),
  });
  const total = store.journal.lastSeq();
  const t0 = performance.now();
  sync.start();
  while (sync.outbox.state().pending > 0) {
    if (performance.now() - t0 > 300_000) throw new Error('backlog did not drain in 300 s');
    await sleep(5);
  }
  const backlogS = (performance.now() - t0) / 1e3;
  const lost = total - [...seen].filter((s) => s <= total).length;
  console.log(`backlog: ${total} events (written in ${fillS.toFixed(1)} s) drained and acked in ${backlogS.toFixed(2)} s; lost ${lost}, duplicates ${duplicates}, out of order ${outOfOrder}`);

  // 2. deltas ----------------------------------------------------------------
  const applied = new Map<number, number>();
  gate.on('event', (ev) => {
    if (ev.type === 'whitelist_applied') applied.set(ev.version as number, performance.now());
  });
  const deltaMs: number[] = [];
  for (let i = 0; i < DELTAS; i++) {
    const v = store.whitelist.version() + 1;
    const body = signed({ version: v, baseVersion: v - 1, upsert: { people: [{ id: `d${i}`, kind: 'visitor', name: 'D' }], credentials: [{ key: `card:D${i}`, personId: `d${i}`, status: 'active' }] }, delete: {} });
    const t = performance.now();
    await collector.publishAsync(st.delta, body, { qos: 1 });
    while (!applied.has(v)) {
      if (performance.now() - t > 10_000) throw new Error(`delta ${v} not applied in 10 s`);
      await new Promise((r) => setImmediate(r));
    }
    deltaMs.push(applied.get(v)! - t);
  }
  const deltaP99 = pct(deltaMs, 0.99);
  console.log(`deltas: ${DELTAS}, publish → applied p50 ${pct(deltaMs, 0.5).toFixed(2)} ms, p99 ${deltaP99.toFixed(2)} ms`);

  // 3. snapshot while deciding ------------------------------------------------
  // Central builds, signs and publishes the snapshot, and collects and acks
  // the events, in a child process, so this process's event loop is only
  // the gate's (SyncService + Gate + store).
  const version = store.whitelist.version() + 1;
  await collector.endAsync(true); // the child process collects from here on
  const publisher = await startPublisher(broker.url, key.export({ type: 'pkcs8', format: 'pem' }).toString(), version);
  const chunks = publisher.chunks;
  console.log(`snapshot: ${SNAPSHOT} credentials in ${chunks} retained chunks published (by a child process) in ${publisher.publishS.toFixed(1)} s`);
  const lat: number[] = [];
  /** When each decision ended, to split the figures between the chunk fetch and the apply. */
  const latAt: number[] = [];
  const exec: number[] = [];
  /** Each decision's window start (when it was due) and the run-queue wait since the previous decision. */
  const dueAts: number[] = [];
  const waits: number[] = [];
  const cpus: number[] = [];
  let lastSched = schedMs();
  const gcPauses: Array<[start: number, end: number, major: boolean]> = [];
  /** Decision w of these arrays, split: the GC pauses inside its window, its CPU and run-queue time. */
  const splitOf = (d: { lat: number[]; latAt: number[]; dueAts: number[]; cpus: number[]; waits: number[] }, w: number): Split => {
    if (w < 0) return { latency_ms: NaN, gc_ms: NaN, cpu_ms: NaN, runqueue_ms: NaN };
    const [a, b] = [d.dueAts[w]!, d.latAt[w]!];
    let gc = 0;
    for (const [s0, e0] of gcPauses) gc += Math.max(0, Math.min(b, e0) - Math.max(a, s0));
    const r = (x: number) => +x.toFixed(2);
    return { latency_ms: r(d.lat[w]!), gc_ms: r(gc), cpu_ms: r(d.cpus[w]!), runqueue_ms: r(d.waits[w]!) };
  };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // kind 4 (NODE_PERFORMANCE_GC_MAJOR): a mark-compact; the others are scavenges and callbacks.
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      gcPauses.push([e.startTime, e.startTime + e.duration, kind === 4]);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let deciding = true;
  let timer: NodeJS.Timeout | undefined;
  const decideLoop = (dueAt: number) => {
    const start = performance.now();
    now = Date.now();
    gate.present('entry', 'in', { kind: 'card', uid: uid(Math.floor(Math.random() * WHITELIST)) }, now);
    gate.turnstile.passageSensed(now + 1);
    const end = performance.now();
    exec.push(end - start);
    lat.push(end - dueAt);
    latAt.push(end);
    dueAts.push(dueAt);
    const sched = schedMs();
    waits.push(sched.wait - lastSched.wait);
    cpus.push(sched.cpu - lastSched.cpu);
    lastSched = sched;
    if (deciding) {
      const next = performance.now() + 2;
      timer = setTimeout(() => decideLoop(next), 2);
    }
  };
  // The very first decision of the process is cold (JIT, statement
  // preparation): reported on its own, kept out of the idle baseline.
  decideLoop(performance.now());
  const firstCold = lat[0]!;
  await sleep(200);
  lat.splice(0);
  latAt.splice(0);
  exec.splice(0);
  dueAts.splice(0);
  waits.splice(0);
  cpus.splice(0);
  // latency baseline before the apply
  await sleep(IDLE_MS);
  const idleLat = lat.splice(0);
  const idleAt = latAt.splice(0);
  const idleDue = dueAts.splice(0);
  const idleWaits = waits.splice(0);
  const idleCpus = cpus.splice(0);
  const idle = pct(idleLat, 1);
  exec.splice(0);
  const idleWorst = splitOf({ lat: idleLat, latAt: idleAt, dueAts: idleDue, cpus: idleCpus, waits: idleWaits }, idleLat.indexOf(idle));
  // The gate loop's own delay histogram (1 ms resolution), beside the decisions' view.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const tApply = performance.now();
  await publisher.publishManifest();
  // When the last chunk is stored: the fetch (MQTT, checks, chunk storage) ends, the apply proper begins.
  const stored = store.db.prepare('SELECT count(*) FROM sync_wl_chunks WHERE version = ?').pluck();
  let fetchedAt: number | undefined;
  while (!applied.has(version)) {
    if (performance.now() - tApply > 600_000) throw new Error('snapshot not applied in 600 s');
    await sleep(20);
    if (fetchedAt === undefined && (stored.get(version) as number) >= chunks) fetchedAt = performance.now();
  }
  fetchedAt ??= applied.get(version)!;
  const applyS = (applied.get(version)! - tApply) / 1e3;
  const walFileMb = statSync(`${config.storage.path}-wal`).size / 1048576;
  loopDelay.disable();
  deciding = false;
  clearTimeout(timer);
  const maxLat = pct(lat, 1);
  const fetchLat = lat.filter((_, i) => latAt[i]! <= fetchedAt);
  const applyLat = lat.filter((_, i) => latAt[i]! > fetchedAt);
  const fetchS = (fetchedAt - tApply) / 1e3;
  gcObserver.disconnect();
  /** The slowest decision among those ending in (from, to], split. */
  const worst = (from: number, to: number): Split => {
    let w = -1;
    for (let i = 0; i < lat.length; i++) if (latAt[i]! > from && latAt[i]! <= to && (w < 0 || lat[i]! > lat[w]!)) w = i;
    return splitOf({ lat, latAt, dueAts, cpus, waits }, w);
  };
  const worstFetch = worst(-Infinity, fetchedAt);
  const worstApply = worst(fetchedAt, Infinity);
  const gcIn = (from: number, to: number, major: boolean) => gcPauses.filter(([s0, , m]) => s0 >= from && s0 < to && m === major).map(([s0, e0]) => e0 - s0);
  const gcFetch = gcIn(tApply, fetchedAt, false);
  const gcApply = gcIn(fetchedAt, applied.get(version)!, false);
  const mcFetch = gcIn(tApply, fetchedAt, true);
  const mcApply = gcIn(fetchedAt, applied.get(version)!, true);
  console.log(`  of which: chunk fetch ${fetchS.toFixed(1)} s (decision max ${pct(fetchLat, 1).toFixed(2)} ms), apply ${(applyS - fetchS).toFixed(1)} s (decision max ${pct(applyLat, 1).toFixed(2)} ms)`);
  const show = (x: Split) => `${x.latency_ms} ms (GC ${x.gc_ms} ms; on a CPU ${x.cpu_ms} ms, waiting for one ${x.runqueue_ms} ms)`;
  console.log(`  slowest decision in the fetch: ${show(worstFetch)}; in the apply: ${show(worstApply)}`);
  const gcLine = (minor: number[], major: number[]) =>
    `${minor.length} scavenges (max ${pct(minor, 1).toFixed(2)} ms), ${major.length} mark-compacts (max ${pct(major, 1).toFixed(2)} ms)`;
  console.log(`  gate-thread GC pauses: fetch ${gcLine(gcFetch, mcFetch)}; apply ${gcLine(gcApply, mcApply)}`);
  console.log(`idle baseline (${IDLE_MS / 1e3} s before the manifest, ${idleLat.length} decisions): p99 ${pct(idleLat, 0.99).toFixed(2)} ms, max ${show(idleWorst)}`);
  console.log(`snapshot applied in ${applyS.toFixed(1)} s with ${lat.length} decisions during it: latency (from due time) p99 ${pct(lat, 0.99).toFixed(2)} ms, max ${maxLat.toFixed(2)} ms; own run max ${pct(exec, 1).toFixed(2)} ms; idle max before ${idle.toFixed(2)} ms (first, cold decision ${firstCold.toFixed(2)} ms); WAL file ${walFileMb.toFixed(1)} MB`);
  const ok = store.whitelist.lookup(`card:${uid(SNAPSHOT - 1)}`) !== undefined;

  await publisher.stop();
  await sync.stop();
  await gate.stop();
  await checkpointer.stop();
  store.close();
  broker.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({
    quick,
    backlog_events: total,
    backlog_ack_s: +backlogS.toFixed(3),
    lost,
    duplicates,
    delta_count: DELTAS,
    delta_p99_ms: +deltaP99.toFixed(2),
    snapshot_credentials: SNAPSHOT,
    snapshot_chunks: chunks,
    snapshot_apply_s: +applyS.toFixed(2),
    snapshot_lookup_ok: ok,
    decisions_during_apply: lat.length,
    decision_max_during_apply_ms: +maxLat.toFixed(2),
    snapshot_fetch_s: +fetchS.toFixed(2),
    decision_max_during_fetch_ms: +pct(fetchLat, 1).toFixed(2),
    decision_max_after_fetch_ms: +pct(applyLat, 1).toFixed(2),
    slowest_decision_fetch: worstFetch,
    slowest_decision_apply: worstApply,
    gc_fetch: { scavenges: gcFetch.length, scavenge_max_ms: +pct(gcFetch, 1).toFixed(2), mark_compacts: mcFetch.length, mark_compact_max_ms: +pct(mcFetch, 1).toFixed(2) },
    gc_apply: { scavenges: gcApply.length, scavenge_max_ms: +pct(gcApply, 1).toFixed(2), mark_compacts: mcApply.length, mark_compact_max_ms: +pct(mcApply, 1).toFixed(2) },
    decision_p99_during_apply_ms: +pct(lat, 0.99).toFixed(2),
    decision_exec_max_during_apply_ms: +pct(exec, 1).toFixed(2),
    decision_max_idle_before_ms: +idle.toFixed(2),
    decision_p99_idle_before_ms: +pct(idleLat, 0.99).toFixed(2),
    decisions_idle_before: idleLat.length,
    slowest_decision_idle: idleWorst,
    decision_first_cold_ms: +firstCold.toFixed(2),
    wal_file_mb_after_apply: +walFileMb.toFixed(1),
    loop_delay_max_during_apply_ms: +(loopDelay.max / 1e6).toFixed(2),
    loop_delay_p99_during_apply_ms: +(loopDelay.percentile(99) / 1e6).toFixed(2),
    load_avg_1m: +(await import('node:os')).loadavg()[0]!.toFixed(2),
  }));
}

(process.argv.includes('--publisher') ? runPublisher() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
