/**
 * Default-deny by matched route, tried as an attacker on the gate's LAN
 * would: every route the server itself registered (so a route added later
 * is covered without editing this file), through every spelling a client
 * can put on the request line, with no session, with a guard's session and
 * with an admin's session sent from another site. Requests go over a raw
 * TCP socket to a listening server, so nothing normalises the target
 * before fastify does. Each must be refused (401/403/404 with
 * `{"error":{"code","message"}}`), never 200 and never 500, and nothing may
 * change: journal, alerts, accounts, sessions, visitors, registrations,
 * relay trace.
 */
import { readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAuth, registeredRoutes, RouteAccessError, Sessions, type RouteEntry } from '../../src/admin/session.js';
import { AccountStore } from '../../src/store/accounts.js';
import { VisitorStore } from '../../src/store/visitors.js';
import { addAccount, call, login, makeHarness, PASSWORDS, until, type Harness, type Session } from './harness.js';
import { multipart, phoneJpeg, visitorFields } from './multipart.js';

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** One request over its own socket, the target written byte for byte as given. */
function rawRequest(port: number, method: string, target: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${method} ${target.slice(0, 120)}: no complete answer in 5 s (a stream left open?)`));
    }, 5_000);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!m) return reject(new Error(`${method} ${target.slice(0, 120)}: not an HTTP answer: ${text.slice(0, 200)}`));
      resolve({ status: Number(m[1]), headers: head, body: Buffer.from(text.slice(end + 4), 'latin1').toString('utf8') });
    });
    const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`content-length: ${body.length}`);
    sock.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]));
  });
}

/** Percent-encode the character at `i` (hex case as given). */
const enc = (s: string, i: number, upper = true) => {
  const hex = s.charCodeAt(i).toString(16).padStart(2, '0');
  return `${s.slice(0, i)}%${upper ? hex.toUpperCase() : hex}${s.slice(i + 1)}`;
};
const encodeLetters = (s: string) => s.replace(/[A-Za-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

/** Every spelling of `path` the suite sends; `origin` is http://127.0.0.1:PORT. */
export function spellings(path: string, origin: string): string[] {
  const segs = path.split('/').filter(Boolean);
  const firstLetter = path.search(/[A-Za-z]/);
  const lastLetter = path.length - 1 - [...path].reverse().join('').search(/[A-Za-z]/);
  const out = new Set<string>([
    path,
    // percent-encoded letters (one, the last, all; upper and lower hex)
    ...(firstLetter >= 0 ? [enc(path, firstLetter), enc(path, firstLetter, false), enc(path, lastLetter), encodeLetters(path)] : []),
    // percent-encoded slashes (the first one stays: a target must start with "/", see the malformed test)
    `/${segs.join('%2F')}`,
    `/${segs.join('%2f')}`,
    `/${segs.join('%252F')}`,
    segs.length > 1 ? path.replace(/\/(?=[^/]*$)/, '%2F') : `/%2F${segs.join('')}`,
    // absolute-form targets, alone and combined
    `${origin}${path}`,
    `${origin.toUpperCase().replace('HTTP', 'http')}${path}`,
    `HTTP://127.0.0.1:${origin.split(':').pop()}${path}`,
    `http://evil.example${path}`,
    `https://127.0.0.1${path}`,
    ...(firstLetter >= 0 ? [`${origin}${enc(path, firstLetter)}`] : []),
    `${origin}/${path}`,
    // case changes
    path.toUpperCase(),
    path.replace(/[a-z]/, (c) => c.toUpperCase()),
    path.replace(/[a-z](?=[^/]*$)/, (c) => c.toUpperCase()),
    // doubled and trailing slashes
    `/${path}`,
    path.replace(/\/(?=[^/]*$)/, '//'),
    path.replace(/\//g, '//'),
    `${path}/`,
    `${path}//`,
    // dot segments (plain and encoded)
    `/.${path}`,
    `/x/..${path}`,
    segs.length ? `/${segs[0]}/.${path.slice(segs[0]!.length + 1)}` : '/./',
    `${path}/.`,
    `${path}/..`,
    `/%2e${path}`,
    `/x/%2e%2e${path}`,
    `/x/%2E%2E%2F..${path}`,
    // query and parameter delimiters
    `${path}?`,
    `${path}?x=1`,
    `${path};`,
    `${path}%3F`,
    `${path}%00`,
    `${path}%20`,
    `${path}#`,
    // overlong: a long segment, a long query, a long dot-segment detour
    `${path}/${'a'.repeat(4_000)}`,
    `${path}?${'q'.repeat(6_000)}`,
    `/${'b'.repeat(4_000)}/..${path}`,
    `${path}${'/'.repeat(2_000)}`,
  ]);
  return [...out];
}

describe('access by matched route, every spelling', () => {
  let h: Harness;
  let port: number;
  let origin: string;
  let admin: Session;
  let guard: Session;
  let personId: string;

  const snapshot = () => {
    const accounts = new AccountStore(h.store.db);
    const trace = join(h.dir, 'gpio.trace');
    return {
      journal: h.store.db.prepare('SELECT seq, body FROM journal ORDER BY seq').all(),
      alerts: h.store.settings.get('admin.alerts.open'),
      accounts: accounts.list(),
      sessions: h.store.db.prepare('SELECT token_hash, account, expires_at FROM admin_sessions ORDER BY token_hash').all(),
      visitors: h.store.db.prepare('SELECT * FROM visitors ORDER BY person_id').all(),
      registrations: h.outbox.count(),
      mode: h.gate.status().mode,
      // The relays only: LEDs keep blinking for the open alert.
      relays: (existsSync(trace) ? readFileSync(trace, 'utf8') : '').split('\n').filter((l) => /"line":"(entry|exit)"/.test(l)),
    };
  };

  beforeAll(async () => {
    h = await makeHarness();
    await addAccount(h, 'chief', 'admin', PASSWORDS.admin);
    await addAccount(h, 'guard1', 'guard', PASSWORDS.guard);
    admin = await login(h, 'chief', PASSWORDS.admin);
    guard = await login(h, 'guard1', PASSWORDS.guard);
    // A visitor with a printable pass, and an open alert: things worth stealing or clearing.
    const form = multipart(visitorFields({ credential: 'pass', idType: 'passport', idNumber: 'E12345678' }), { data: await phoneJpeg() });
    const reg = await call(h, admin, 'POST', '/api/visitors', form.payload, form.headers);
    expect(reg.statusCode).toBe(201);
    personId = reg.json().personId;
    expect(new VisitorStore(h.store.db).get(personId)?.passToken).toBeTruthy();
    h.store.whitelist.upsert(
      {
        people: [{ id: 'p-black', kind: 'contractor', name: 'Banned Qian' }],
        credentials: [{ key: 'card:DEADBEEF', personId: 'p-black', status: 'blacklisted' }],
      },
      'central',
    );
    h.type('entry', 'DEADBEEF');
    await until(() => (h.store.settings.get<{ seqs: number[] }>('admin.alerts.open')?.seqs.length ?? 0) > 0);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = (h.app.server.address() as { port: number }).port;
    origin = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => h?.close());

  /** Bodies that would act if the request got through (the whole point of "nothing changed"). */
  async function bodyFor(route: RouteEntry): Promise<{ body: Buffer; type: string } | undefined> {
    if (route.method === 'GET' || route.method === 'HEAD') return undefined;
    const json: Record<string, unknown> = {
      '/api/login': { name: 'chief', password: 'not-the-password' },
      '/api/open': { direction: 'in', reason: 'spelled' },
      '/api/mode': { mode: 'emergency', reason: 'spelled', confirm: true },
      '/api/alerts/ack': { all: true },
      '/api/accounts': { name: 'intruder', role: 'admin', password: 'intruder-password-1' },
      '/api/accounts/update': { name: 'chief', disabled: true },
      '/api/accounts/delete': { name: 'guard1' },
      '/api/visitors/approve': { personId },
      '/api/password': { current: PASSWORDS.admin, password: 'changed-password-9' },
      '/api/journal/search': {},
      '/api/journal/export': {},
      '/api/logout': {},
    };
    if (route.url === '/api/visitors') {
      const form = multipart(visitorFields({ credential: 'pass', idType: 'passport', idNumber: 'E7654321' }), { data: await phoneJpeg() });
      return { body: form.payload, type: form.headers['content-type']! };
    }
    return { body: Buffer.from(JSON.stringify(json[route.url] ?? {})), type: 'application/json' };
  }

  const concrete = (url: string) => url.replace(/:personId\b/g, personId);

  it('the server lists its routes, each with a declared access, and the sensitive ones are not public', () => {
    const routes = registeredRoutes(h.app);
    const key = (r: RouteEntry) => `${r.method} ${r.url}`;
    const byKey = new Map(routes.map((r) => [key(r), r.access]));
    for (const [k, access] of [
      ['GET /api/accounts', 'admin'], ['POST /api/alerts/ack', 'signed-in'], ['GET /api/inside', 'signed-in'],
      ['GET /api/visitors/:personId/pass.svg', 'signed-in'], ['GET /api/live', 'signed-in'], ['HEAD /api/live', 'signed-in'],
      ['POST /api/login', 'public'], ['GET /', 'public'], ['GET /style.css', 'public'], ['POST /api/mode', 'admin'],
    ]) {
      expect(byKey.get(k!), k).toBe(access);
    }
    // Public: the page, its static files, its strings and the sign-in; nothing under /api/ besides those two.
    const publicApi = routes.filter((r) => r.access === 'public' && r.url.startsWith('/api/')).map(key).sort();
    expect(publicApi).toEqual(['GET /api/i18n', 'HEAD /api/i18n', 'POST /api/login']);
    expect(routes.length).toBeGreaterThan(40);
  });

  it('an undeclared or misspelled access stops the server from being built', async () => {
    const app = Fastify();
    installAuth(app, new Sessions(new AccountStore(h.store.db), Date.now));
    expect(() => app.get('/api/new-thing', async () => 'x')).toThrow(RouteAccessError);
    expect(() => app.post('/api/new-thing', { config: { access: 'Public' as 'public' } }, async () => 'x')).toThrow(/must declare config\.access/);
    // Also inside a plugin, where it fails the registration (and so buildAdminServer).
    await app.register(async (sub) => {
      sub.get('/api/declared', { config: { access: 'signed-in' } }, async () => 'x');
    });
    await expect(
      app.register(async (sub) => {
        sub.get('/api/undeclared', async () => 'x');
      }),
    ).rejects.toThrow(RouteAccessError);
    expect(registeredRoutes(app).map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/declared', 'HEAD /api/declared']);
  });

  it('every route × every spelling × {no session, guard, admin from another site}: refused, nothing changed', async () => {
    const before = snapshot();
    expect(before.relays.length).toBeGreaterThan(0); // the safe state written at start: the trace is live
    const routes = registeredRoutes(h.app);
    const failures: string[] = [];
    let sent = 0;
    const identities = {
      none: {} as Record<string, string>,
      guard: { cookie: guard.cookie, 'x-csrf-token': guard.csrf },
      guardNoCsrf: { cookie: guard.cookie },
      // An admin's own browser, lured by another site: each header alone must suffice.
      foreignOrigin: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: 'http://evil.example' },
      foreignSite: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'sec-fetch-site': 'cross-site' },
    };
    type Who = keyof typeof identities;
    /** Whether `who` must be refused on a route of this access with this method. */
    const mustRefuse = (access: RouteEntry['access'], method: string, who: Who): boolean => {
      const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(method);
      if (who === 'none') return access !== 'public';
      if (who === 'guard') return access === 'admin';
      if (who === 'guardNoCsrf') return access === 'admin' || (access === 'signed-in' && unsafe);
      return access !== 'public' || unsafe; // from another site
    };

    const jobs: Array<() => Promise<void>> = [];
    for (const route of routes) {
      const path = concrete(route.url);
      const payload = await bodyFor(route);
      // A GET route's HEAD twin is a route of the list itself; HEAD/OPTIONS on a POST route match nothing.
      const methods = route.method === 'GET' ? ['GET', 'OPTIONS'] : route.method === 'HEAD' ? ['HEAD'] : [route.method, 'HEAD', 'OPTIONS'];
      for (const target of spellings(path, origin)) {
        for (const method of methods) {
          const access = method === route.method ? route.access : undefined; // undefined: no such route, refuse
          for (const who of Object.keys(identities) as Who[]) {
            const refuse = access === undefined || mustRefuse(access, method, who);
            // Allowed combinations are the other tests' business; anonymous reads of public routes
            // still must not fail the server (an anonymous sign-in attempt is allowed to journal itself).
            if (!refuse && (who !== 'none' || !['GET', 'HEAD', 'OPTIONS'].includes(method))) continue;
            const headers: Record<string, string> = { ...identities[who] };
            if (payload && method === route.method) headers['content-type'] = payload.type;
            jobs.push(async () => {
              const res = await rawRequest(port, method, target, headers, method === route.method ? payload?.body : undefined);
              sent++;
              const tag = `${method} ${target.slice(0, 80)} as ${who} → ${res.status}`;
              if (res.status >= 500) failures.push(`${tag} (server error)`);
              if (!refuse) return;
              // A guard's spelling may match a different route a guard MAY call (`pending%00` is a
              // `:personId`): that route then refuses the id. Still nothing of the admin route runs.
              // Only reads: a POST body that fails validation must not pass for a refusal.
              const guardBadId =
                (who === 'guard' || who === 'guardNoCsrf') && res.status === 400 &&
                ((method === 'GET' && /"BAD_INPUT"/.test(res.body)) || method === 'HEAD');
              if (![401, 403, 404].includes(res.status) && !guardBadId) {
                failures.push(tag);
                return;
              }
              if (method === 'HEAD') return; // no body by definition
              let body: { error?: { code?: unknown; message?: unknown } } | undefined;
              try {
                body = JSON.parse(res.body);
              } catch {
                body = undefined;
              }
              if (typeof body?.error?.code !== 'string' || typeof body.error.message !== 'string') failures.push(`${tag} body ${res.body.slice(0, 100)}`);
            });
          }
        }
      }
    }
    // A few sockets at a time: the order of refusals does not matter, the total time does.
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
    if (process.env.ROUTE_ACCESS_DUMP) (await import('node:fs')).writeFileSync(process.env.ROUTE_ACCESS_DUMP, failures.join('\n'));
    expect(failures.slice(0, 40), `${failures.length} of ${sent} requests were not refused as they should be`).toEqual([]);
    expect(sent).toBe(jobs.length);
    expect(sent).toBeGreaterThan(5_000);
    console.log(`route-access: ${routes.length} routes, ${sent} requests`);
    expect(snapshot()).toEqual(before);
    expect(h.logs()).not.toContain('admin request failed');
  }, 240_000);

  it('a request line Node refuses never reaches the app: 400 MALFORMED_REQUEST, nothing changed', async () => {
    const before = snapshot();
    for (const target of ['%2Fapi/accounts', 'api/accounts', '/api/accounts x', `/api/accounts\u0000`, '/api/\taccounts']) {
      const res = await rawRequest(port, 'GET', target, { cookie: admin.cookie, origin: 'http://evil.example' });
      expect(res.status, JSON.stringify(target)).toBe(400);
      expect(JSON.parse(res.body).error.code).toBe('MALFORMED_REQUEST');
    }
    expect(snapshot()).toEqual(before);
  });

  it('the examples of the report, spelled the attacker\'s way, answer 401 or 404 and change nothing', async () => {
    const before = snapshot();
    const cases: Array<[string, string, string?]> = [
      ['GET', '/%61pi/inside'],
      ['GET', '/ap%69/accounts'],
      ['GET', `${origin}/api/accounts`],
      ['GET', `/%61pi/visitors/${personId}/pass.svg`],
      ['GET', `/%61pi/visitors/${personId}`],
      ['GET', `/%61pi/photos/${personId}`],
      ['GET', '/%61pi/visitors/pending'],
      ['GET', '/%61pi/status'],
      ['GET', '/%61pi/live'],
      ['POST', '/%61pi/journal/search', '{"person":"a"}'],
      ['POST', '/ap%69/alerts/ack', '{"all":true}'],
      ['POST', '/ap%69/open', '{"direction":"in","reason":"x"}'],
      ['POST', '/ap%69/mode', '{"mode":"emergency","reason":"x","confirm":true}'],
      ['POST', '/ap%69/accounts', '{"name":"intruder","role":"admin","password":"intruder-password-1"}'],
      ['POST', '/ap%69/visitors/approve', `{"personId":"${personId}"}`],
    ];
    for (const [method, target, body] of cases) {
      const res = await rawRequest(port, method, target, body ? { 'content-type': 'application/json' } : {}, body ? Buffer.from(body) : undefined);
      expect([401, 404], `${method} ${target} → ${res.status} ${res.body.slice(0, 80)}`).toContain(res.status);
      expect(JSON.parse(res.body).error.code).toMatch(/^(UNAUTHORIZED|NOT_FOUND)$/);
    }
    expect(snapshot()).toEqual(before);
  });
});
