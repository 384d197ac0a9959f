/**
 * Sessions and the checks every API call passes: a random token in an
 * HttpOnly, SameSite=Strict cookie (stored only as its SHA-256), a
 * per-session CSRF token the page sends in `x-csrf-token` on every change,
 * and a role check. Routes opt out with `config: { public: true }` and ask
 * for admin with `config: { role: 'admin' }`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountRole, AccountStore } from '../store/accounts.js';
import type { Clock } from '../types.js';
import { badCsrf, forbidden, unauthorized } from './errors.js';

export const SESSION_COOKIE = 'gc_session';
export const CSRF_HEADER = 'x-csrf-token';
export const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;

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
    /** No session needed (sign-in, translations). */
    public?: boolean;
    /** Least role the route needs; default guard. */
    role?: AccountRole;
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

/** Runs on every /api/ request before its body is read (a refused upload is never parsed). */
export function installAuth(app: FastifyInstance, sessions: Sessions): void {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (req: FastifyRequest, _reply: FastifyReply) => {
    if (!req.url.startsWith('/api/')) return;
    const config = req.routeOptions.config ?? {};
    req.session = sessions.resolve(req.cookies[SESSION_COOKIE]) ?? null;
    if (config.public) return;
    if (!req.session) throw unauthorized();
    if (!SAFE_METHODS.has(req.method) && !csrfOk(req.headers[CSRF_HEADER], req.session.csrf)) throw badCsrf();
    if (config.role === 'admin' && req.session.role !== 'admin') throw forbidden();
  });
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
    // The page is usually plain HTTP on the gate's LAN; Secure only when it came over TLS.
    secure,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
}
