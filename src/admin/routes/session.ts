/**
 * Sign-in, sign-out, "who am I" (with the CSRF token the page must echo) and
 * changing one's own password. Every sign-in and every failure is an
 * `admin_login` journal event `{account, ok, reason?}`, a password change an
 * `admin_action`; log lines name the event's seq, not the account. A password
 * never reaches a log, an event or an error.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { AdminError } from '../errors.js';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from '../password.js';
import { clearSessionCookie, operatorOf, setSessionCookie } from '../session.js';
import { parse, plain } from '../validate.js';
import { recordAdminAction } from '../audit.js';

const loginBody = z.strictObject({ name: plain(64).min(1), password: plain(200).min(1) });
const passwordBody = z.strictObject({ current: plain(200).min(1), password: plain(200) });
const emptyBody = z.strictObject({});

export function sessionRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const { deps, accounts, sessions, limiter } = ctx;
  const signedIn = { config: { access: 'signed-in' as const } };
  let dummy: Promise<string> | undefined;
  const journal = (account: string | undefined, ok: boolean, reason?: string) => {
    const ev: { type: 'admin_login'; [k: string]: unknown } = { type: 'admin_login', ok };
    // A name that is no account is left out: people type passwords into the name field.
    if (account !== undefined) ev.account = account;
    if (reason) ev.reason = reason;
    return deps.gate.record(ev).seq;
  };

  app.post('/api/login', { config: { access: 'public' } }, async (req, reply) => {
    const body = parse(loginBody, req.body);
    const verdict = limiter.attempt(req.ip, body.name);
    const account = accounts.get(body.name);
    if (!verdict.ok) {
      if (verdict.report) journal(account?.name, false, verdict.code);
      reply.header('retry-after', String(verdict.retryAfterS));
      throw new AdminError(verdict.code, 429, 'too many sign-in attempts, try again later');
    }
    // Unknown names cost the same scrypt run, so timing does not tell them apart.
    dummy ??= dummyHash(deps.kdf);
    const matches = await verifyPassword(body.password, account?.passwordHash ?? (await dummy));
    if (!account || !matches || account.disabled) {
      const locked = limiter.failed(body.name);
      const reason = !account ? 'UNKNOWN_ACCOUNT' : !matches ? 'BAD_PASSWORD' : 'DISABLED';
      const seq = journal(account?.name, false, locked ? `${reason}+LOCKED_OUT` : reason);
      req.log.warn({ seq, reason, locked }, 'admin sign-in refused');
      throw new AdminError('BAD_CREDENTIALS', 401, 'wrong account name or password');
    }
    limiter.succeeded(body.name);
    const { token, csrf } = sessions.create(account.name);
    setSessionCookie(reply, token, req.protocol === 'https');
    const seq = journal(account.name, true);
    req.log.info({ seq, role: account.role }, 'admin signed in');
    return { account: account.name, role: account.role, csrf };
  });

  app.post('/api/logout', signedIn, async (req, reply) => {
    parse(emptyBody, req.body);
    sessions.destroy(operatorOf(req).tokenHash);
    clearSessionCookie(reply, req.protocol === 'https');
    return { ok: true };
  });

  app.get('/api/session', signedIn, async (req) => {
    const s = operatorOf(req);
    return { account: s.account, role: s.role, csrf: s.csrf };
  });

  app.post('/api/password', signedIn, async (req, reply) => {
    const s = operatorOf(req);
    const body = parse(passwordBody, req.body);
    const problem = passwordProblem(body.password);
    if (problem) throw new AdminError('WEAK_PASSWORD', 400, problem);
    const account = accounts.get(s.account);
    if (!account || !(await verifyPassword(body.current, account.passwordHash))) {
      throw new AdminError('BAD_CREDENTIALS', 403, 'the current password is wrong');
    }
    const hash = await hashPassword(body.password, deps.kdf);
    const seq = deps.store.transaction(() => {
      accounts.setPassword(s.account, hash, deps.clock());
      // Other sessions of this account end; this one stays.
      accounts.deleteSessionsOf(s.account);
      return recordAdminAction(deps, s.account, 'password_changed', { account: s.account });
    });
    const next = sessions.create(s.account);
    setSessionCookie(reply, next.token, req.protocol === 'https');
    req.log.info({ seq }, 'admin changed own password');
    return { ok: true, csrf: next.csrf };
  });
}
