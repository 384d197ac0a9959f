/**
 * The admin page's HTTP server. `buildAdminServer(deps)` returns the fastify
 * app without listening, so route tests use `app.inject()`; AdminService
 * (service.ts) listens on `admin.listen` and runs the daily purge.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyError, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { AccountStore } from '../store/accounts.js';
import type { VisitorStore } from '../store/visitors.js';
import type { JournalSearch } from '../store/journal-search.js';
import { JournalSearchWorker } from '../store/journal-search.js';
import type { AdminDeps } from './deps.js';
import { AdminError, type ErrorBody } from './errors.js';
import { DEFAULT_SESSION_TTL_MS, Sessions, installAuth } from './session.js';
import { DEFAULT_LIMITS, LoginLimiter } from './login-limiter.js';
import { DEFAULT_KDF } from './password.js';
import { AlertBoard } from './alerts.js';
import { LiveHub } from './live-hub.js';
import { LiveView } from './live-view.js';
import { sessionRoutes } from './routes/session.js';
import { gateRoutes } from './routes/gate.js';
import { liveRoutes } from './routes/live.js';
import { visitorRoutes } from './routes/visitors.js';
import { peopleRoutes } from './routes/people.js';
import { journalRoutes } from './routes/journal.js';
import { accountRoutes } from './routes/accounts.js';
import { i18nRoutes } from './routes/i18n.js';
import { deskRoutes, DESK_WAIT_MS } from './routes/desk.js';
import { DeskCards } from './desk-cards.js';

/** Everything the route modules share, built once per server. */
export interface AdminContext {
  deps: AdminDeps;
  accounts: AccountStore;
  visitors: VisitorStore;
  /** Bounded reads on the main connection (the live backlog). */
  search: JournalSearch;
  /** Free searches and exports, off the gate's thread (in-thread for an in-memory database). */
  searcher: Searcher;
  sessions: Sessions;
  limiter: LoginLimiter;
  alerts: AlertBoard;
  live: LiveView;
  hub: LiveHub;
  sessionTtlMs: number;
  maxPhotoBytes: number;
  /** Where index.html, the script and the style sheet live. */
  publicDir: string;
  /** The reception desk's ID card reader, when one is configured. */
  desk?: DeskCards;
  /** How long "Read ID card" waits for a card. */
  deskWaitMs: number;
}

export type Searcher = Pick<JournalSearchWorker, 'search' | 'iterate' | 'inside' | 'close'>;

function makeSearcher(deps: AdminDeps, inThread: JournalSearch): Searcher {
  const file = deps.store.file;
  if (file !== undefined) return new JournalSearchWorker({ path: file });
  return {
    search: async (f, page, size) => inThread.search(f, page, size),
    iterate: async function* (f, max) {
      yield* inThread.iterate(f, max);
    },
    inside: async () => deps.store.access.inside(),
    close: async () => {},
  };
}

export const DEFAULT_MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** The page's own CSP: scripts, styles and images only from this origin (camera previews are blob: URLs). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function defaultPublicDir(): string {
  // From src/admin/ (vitest, tsx) the assets sit beside this file; from the
  // compiled dist/src/admin/ they are back in the source tree (tsc copies no HTML).
  const beside = fileURLToPath(new URL('./public/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../../src/admin/public/', import.meta.url));
}

export async function buildAdminServer(deps: AdminDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One line per event worth knowing: sign-ins, changes, errors — not every GET.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    trustProxy: false,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    // A path that cannot be decoded, or a parameter longer than any id, matches no route: 404
    // with the API's error body, before any hook or handler.
    frameworkErrors: (err, _req, reply) => {
      const notRoutable = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status = notRoutable ? 404 : 400;
      const body: ErrorBody = { error: { code: notRoutable ? 'NOT_FOUND' : 'BAD_REQUEST', message: notRoutable ? 'page not found' : 'bad request' } };
      void (reply as unknown as FastifyReply).code(status).header('cache-control', 'no-store').send(body);
    },
    // A request line or header Node's parser refuses never reaches fastify: same error shape.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return socket.destroy(err);
      const body = JSON.stringify({ error: { code: 'MALFORMED_REQUEST', message: 'malformed HTTP request' } } satisfies ErrorBody);
      const status = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  }) as unknown as FastifyInstance;

  const accounts = deps.store.accounts;
  const sessionTtlMs = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const search = deps.store.journalSearch;
  const visitors = deps.store.visitors;
  const live = new LiveView(deps.store, visitors);
  const alerts = new AlertBoard(deps.store.settings);
  const ctx: AdminContext = {
    deps: { ...deps, kdf: deps.kdf ?? DEFAULT_KDF },
    accounts,
    visitors,
    search,
    searcher: makeSearcher(deps, search),
    sessions: new Sessions(accounts, deps.clock, sessionTtlMs),
    limiter: new LoginLimiter(deps.clock, { ...DEFAULT_LIMITS, ...deps.limits }),
    alerts,
    live,
    hub: new LiveHub({ gate: deps.gate, live, alerts, log: deps.log }),
    sessionTtlMs,
    maxPhotoBytes: deps.maxPhotoBytes ?? DEFAULT_MAX_PHOTO_BYTES,
    publicDir: deps.publicDir ?? defaultPublicDir(),
    ...(deps.deskReader ? { desk: new DeskCards(deps.deskReader, deps.clock) } : {}),
    deskWaitMs: deps.deskWaitMs ?? DESK_WAIT_MS,
  };

  await app.register(fastifyCookie);
  await app.register(fastifyMultipart, {
    limits: { fileSize: ctx.maxPhotoBytes, files: 1, fields: 40, fieldSize: 4_000, parts: 42 },
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    // Static files and the page set their own; everything else (API answers, errors, 404s) is never cached.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  // Before any route: the onRoute check must see every registration, static files included.
  installAuth(app, ctx.sessions, { staticRoot: ctx.publicDir });
  app.setErrorHandler((err: FastifyError | AdminError, req, reply) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) req.log.error({ err, route: req.routeOptions.url }, 'admin request failed');
    return reply.code(status).send(body);
  });
  // The access hook answers a request that matches no route before this runs; kept so a
  // 404 raised anywhere else (static's callNotFound) has the same body.
  app.setNotFoundHandler((_req, reply) => {
    const body: ErrorBody = { error: { code: 'NOT_FOUND', message: 'page not found' } };
    return reply.code(404).send(body);
  });

  await app.register(fastifyStatic, {
    root: ctx.publicDir,
    // `/` and `/index.html` are served by i18nRoutes, already in the reader's language.
    index: false,
    // One route per file found at start (public, see installAuth): no catch-all route that
    // unmatched paths would reach.
    wildcard: false,
    globIgnore: ['index.html'],
    cacheControl: true,
    maxAge: 0,
  });
  for (const routes of [
    i18nRoutes, sessionRoutes, gateRoutes, liveRoutes, visitorRoutes, peopleRoutes, journalRoutes, accountRoutes, deskRoutes,
  ]) {
    routes(app, ctx);
  }

  ctx.hub.start();
  // SSE responses never end by themselves: close them before the server waits for connections.
  app.addHook('preClose', async () => ctx.hub.stop());
  app.addHook('onClose', async () => ctx.searcher.close());
  // A "Read ID card" wait (up to deskWaitMs) must not hold up the shutdown either.
  app.addHook('preClose', async () => ctx.desk?.close());
  return app;
}

function toErrorBody(err: FastifyError | AdminError): { status: number; body: ErrorBody } {
  if (err instanceof AdminError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    const fields = (err as AdminError & { fields?: string[] }).fields;
    if (fields) body.error.fields = fields;
    return { status: err.statusCode, body };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500) return { status, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
  const code = err.code === 'FST_REQ_FILE_TOO_LARGE' ? 'PHOTO_TOO_LARGE' : err.code ?? 'BAD_REQUEST';
  return { status, body: { error: { code, message: err.message } } };
}
