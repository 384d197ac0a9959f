/**
 * Guard and admin accounts (admin only). The last enabled admin can be
 * neither removed, disabled nor demoted, so the page can never lock its
 * owners out. Password changes and disabling end the account's sessions.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { AdminError, notFound } from '../errors.js';
import { hashPassword, passwordProblem } from '../password.js';
import { accountName, parse, plain } from '../validate.js';
import { recordAdminAction } from '../audit.js';
import { operatorOf } from '../session.js';

const role = z.enum(['guard', 'admin']);
const createBody = z.strictObject({ name: accountName, role, password: plain(200) });
const updateBody = z
  .strictObject({ name: accountName, role: role.optional(), disabled: z.boolean().optional(), password: plain(200).optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined || b.password !== undefined, {
    message: 'nothing to change',
    path: ['role'],
  });
const nameBody = z.strictObject({ name: accountName });

function checkPassword(p: string): void {
  const problem = passwordProblem(p);
  if (problem) throw new AdminError('WEAK_PASSWORD', 400, problem);
}

export function accountRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const { accounts, deps } = ctx;
  const admin = { config: { access: 'admin' as const } };
  const lastAdmin = () => new AdminError('LAST_ADMIN', 409, 'the last enabled admin must stay');

  app.get('/api/accounts', admin, async () => ({
    accounts: accounts.list().map((a) => ({
      name: a.name,
      role: a.role,
      disabled: a.disabled,
      createdAt: new Date(a.createdAt).toISOString(),
      updatedAt: new Date(a.updatedAt).toISOString(),
    })),
  }));

  app.post('/api/accounts', admin, async (req, reply) => {
    const body = parse(createBody, req.body);
    checkPassword(body.password);
    if (accounts.get(body.name)) throw new AdminError('ACCOUNT_EXISTS', 409, 'an account with this name exists');
    const passwordHash = await hashPassword(body.password, deps.kdf);
    const seq = deps.store.transaction(() => {
      accounts.create({ name: body.name, role: body.role, passwordHash }, deps.clock());
      return recordAdminAction(deps, operatorOf(req).account, 'account_created', { account: body.name, role: body.role });
    });
    req.log.info({ seq, role: body.role }, 'admin account created');
    return reply.code(201).send({ name: body.name, role: body.role });
  });

  app.post('/api/accounts/update', admin, async (req) => {
    const body = parse(updateBody, req.body);
    const a = accounts.get(body.name);
    if (!a) throw notFound('account');
    const losesAdmin =
      a.role === 'admin' && !a.disabled && ((body.role && body.role !== 'admin') || body.disabled === true);
    if (losesAdmin && accounts.activeAdmins() <= 1) throw lastAdmin();
    if (body.password !== undefined) checkPassword(body.password);
    const now = deps.clock();
    const hash = body.password !== undefined ? await hashPassword(body.password, deps.kdf) : undefined;
    const seq = deps.store.transaction(() => {
      if (body.role) accounts.setRole(a.name, body.role, now);
      if (body.disabled !== undefined) accounts.setDisabled(a.name, body.disabled, now);
      if (hash) {
        accounts.setPassword(a.name, hash, now);
        accounts.deleteSessionsOf(a.name);
      }
      return recordAdminAction(deps, operatorOf(req).account, 'account_changed', {
        account: a.name, role: body.role, disabled: body.disabled, passwordReset: Boolean(hash),
      });
    });
    if (hash) ctx.limiter.unlock(a.name);
    req.log.info({ seq, role: body.role, disabled: body.disabled, passwordReset: Boolean(hash) }, 'admin account changed');
    const after = accounts.get(a.name)!;
    return { name: after.name, role: after.role, disabled: after.disabled };
  });

  app.post('/api/accounts/delete', admin, async (req) => {
    const { name } = parse(nameBody, req.body);
    const a = accounts.get(name);
    if (!a) throw notFound('account');
    if (a.role === 'admin' && !a.disabled && accounts.activeAdmins() <= 1) throw lastAdmin();
    const seq = deps.store.transaction(() => {
      accounts.remove(name);
      return recordAdminAction(deps, operatorOf(req).account, 'account_removed', { account: name });
    });
    req.log.info({ seq }, 'admin account removed');
    return { ok: true };
  });
}
