/**
 * Sessions and the one access check every request passes.
 *
 * Every route declares who may call it in its own options:
 * `config: { access: 'public' | 'signed-in' | 'admin' }`. One onRequest
 * hook decides from the MATCHED route (`request.routeOptions.config`),
 * never from the URL as sent: fastify percent-decodes the path and accepts
 * absolute-form targets before it matches, so any test on `req.url` can be
 * spelled around. A route registered without a valid declaration makes
 * `buildAdminServer` fail (onRoute hook); a request that matches no route is
 * a 404 before any handler runs.
 *
 * Sessions: a random token in an HttpOnly, SameSite=Strict cookie (stored
 * only as its SHA-256), `Secure` when the page is served over TLS, and a
 * per-session CSRF token the page sends in `x-csrf-token`. Every non-safe
 * method on a non-public route needs that token; every non-safe method on
 * ANY route (sign-in included) and every request to a non-public route is
 * refused when the browser says it comes from another site (Origin or
 * Sec-Fetch-Site).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AccountRole, AccountStore } from '../store/accounts.js';
import type { Clock } from '../drivers/types.js';
import { AdminError, badCsrf, badInput, forbidden, notFound, unauthorized } from './errors.js';

export const SESSION_COOKIE = 'gc_session';
export const CSRF_HEADER = 'x-csrf-token';
export const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;

export const ACCESS_LEVELS = ['public', 'signed-in', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];
const isAccess = (v: unknown): v is Access => typeof v === 'string' && (ACCESS_LEVELS as readonly string[]).includes(v);

export interface SessionInfo {
  account: string;
  role: AccountRole;
  csrf: string;
  tokenHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionInfo | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route: required on every route (see the file comment). */
    access?: Access;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class Sessions {
  constructor(
    private readonly accounts: AccountStore,
    private readonly clock: Clock,
    private readonly ttlMs = DEFAULT_SESSION_TTL_MS,
  ) {}

  create(account: string): { token: string; csrf: string } {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = this.clock();
    this.accounts.createSession({ tokenHash: sha256(token), account, csrf, createdAt: now, expiresAt: now + this.ttlMs });
    return { token, csrf };
  }

  /** The live session behind a cookie value; slides its expiry forward. */
  resolve(token: string | undefined): SessionInfo | undefined {
    if (!token || token.length > 100) return undefined;
    const tokenHash = sha256(token);
    const now = this.clock();
    const row = this.accounts.session(tokenHash, now);
    if (!row) return undefined;
    // Write at most every 1/12 of the lifetime, not on every request.
    if (row.expiresAt - now < this.ttlMs - this.ttlMs / 12) this.accounts.extendSession(tokenHash, now + this.ttlMs);
    return { account: row.account, role: row.role, csrf: row.csrf, tokenHash };
  }

  destroy(tokenHash: string): void {
    this.accounts.deleteSession(tokenHash);
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function csrfOk(sent: unknown, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const crossSite = () => new AdminError('CROSS_SITE', 403, 'requests from another site are refused');

/** This server's own origin as the request names it (scheme from the socket, host from Host). */
function ownOrigin(req: FastifyRequest): string | undefined {
  try {
    return new URL(`${req.protocol}://${req.host}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * True when the browser says the request comes from another site. Absent
 * headers (curl, scripts) say nothing: those still need the session and
 * the CSRF token.
 */
function fromAnotherSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  if (typeof origin !== 'string') return true;
  let sent: string;
  try {
    sent = new URL(origin).origin;
  } catch {
    return true; // "null", garbage
  }
  const own = ownOrigin(req);
  return own === undefined || sent !== own;
}

export interface RouteEntry {
  method: string;
  /** The route's pattern as registered, e.g. `/api/visitors/:personId`. */
  url: string;
  access: Access;
}

const registries = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the server registered, with its access (HEAD twins included): tests enumerate these. */
export function registeredRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return registries.get(app) ?? [];
}

export class RouteAccessError extends Error {
  readonly code = 'ROUTE_ACCESS_MISSING';
}

export interface AccessOptions {
  /** Routes @fastify/static registers for this directory are public (it takes no route config). */
  staticRoot?: string;
}

/**
 * Installs the access rules on `app` (before any route is registered):
 * the onRoute check that refuses undeclared routes and the one onRequest
 * hook that decides every request before its body is read.
 */
export function installAuth(app: FastifyInstance, sessions: Sessions, opts: AccessOptions = {}): void {
  const routes: RouteEntry[] = [];
  registries.set(app, routes);
  const staticRoot = opts.staticRoot === undefined ? undefined : resolve(opts.staticRoot);
  app.decorateRequest('session', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { access?: unknown; file?: unknown; rootPath?: unknown };
    if (
      config.access === undefined &&
      staticRoot !== undefined &&
      typeof config.file === 'string' &&
      typeof config.rootPath === 'string' &&
      resolve(config.rootPath) === staticRoot
    ) {
      config.access = 'public';
      route.config = config as RouteOptions['config'];
    }
    const methods = ([] as string[]).concat(route.method);
    if (!isAccess(config.access)) {
      throw new RouteAccessError(
        `route ${methods.join(',')} ${route.url} must declare config.access as one of ${ACCESS_LEVELS.join(', ')}`,
      );
    }
    for (const method of methods) routes.push({ method, url: route.url, access: config.access });
  });

  app.addHook('onRequest', async (req: FastifyRequest, _reply: FastifyReply) => {
    // No route matched: 404 here, so the not-found handler (or anything else) never runs.
    if (req.is404) throw notFound('page');
    const access = req.routeOptions.config?.access;
    // Unreachable after the onRoute check; refuse rather than guess.
    if (!isAccess(access)) throw notFound('page');
    const unsafe = !SAFE_METHODS.has(req.method);
    if ((unsafe || access !== 'public') && fromAnotherSite(req)) throw crossSite();
    if (access === 'public') return;
    req.session = sessions.resolve(req.cookies[SESSION_COOKIE]) ?? null;
    if (!req.session) throw unauthorized();
    if (unsafe && !csrfOk(req.headers[CSRF_HEADER], req.session.csrf)) throw badCsrf();
    if (access === 'admin' && req.session.role !== 'admin') throw forbidden();
    // No API route takes query parameters: one sent is an unknown field like any other.
    const query = req.query as Record<string, unknown> | undefined;
    if (query && Object.keys(query).length > 0) {
      throw Object.assign(badInput('this route takes no query parameters'), { fields: ['(query)'] });
    }
  });
}

/** The signed-in operator of a non-public route (the hook guarantees one; refuse rather than act without). */
export function operatorOf(req: FastifyRequest): SessionInfo {
  if (!req.session) throw unauthorized();
  return req.session;
}

/**
 * A browser-session cookie (no Max-Age): the server's sliding expiry decides
 * how long it is good for, and closing the browser forgets it.
 */
export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    // Secure whenever the page came over TLS (admin.tls); plain HTTP is loopback-only unless allowed.
    secure,
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure });
}
