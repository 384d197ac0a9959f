/**
 * Admin page accounts and sessions. Password hashing lives in admin/ (this
 * file stores the encoded hash only); session tokens are stored as their
 * SHA-256 so the database alone never yields a usable cookie.
 */
import type Database from 'better-sqlite3';

export type AccountRole = 'guard' | 'admin';

export interface Account {
  name: string;
  role: AccountRole;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRow {
  tokenHash: string;
  account: string;
  role: AccountRole;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

interface AccountDbRow {
  name: string;
  role: AccountRole;
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

interface SessionDbRow {
  token_hash: string;
  account: string;
  role: AccountRole;
  csrf: string;
  created_at: number;
  expires_at: number;
}

export class AccountStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM admin_accounts'),
      get: db.prepare<[string], AccountDbRow>('SELECT * FROM admin_accounts WHERE name = ?'),
      list: db.prepare<[], AccountDbRow>('SELECT * FROM admin_accounts ORDER BY name'),
      insert: db.prepare(
        `INSERT INTO admin_accounts (name, role, password_hash, disabled, created_at, updated_at)
         VALUES (@name, @role, @passwordHash, 0, @now, @now)`,
      ),
      setPassword: db.prepare('UPDATE admin_accounts SET password_hash = ?, updated_at = ? WHERE name = ?'),
      setRole: db.prepare('UPDATE admin_accounts SET role = ?, updated_at = ? WHERE name = ?'),
      setDisabled: db.prepare('UPDATE admin_accounts SET disabled = ?, updated_at = ? WHERE name = ?'),
      remove: db.prepare('DELETE FROM admin_accounts WHERE name = ?'),
      countAdmins: db.prepare<[], { n: number }>(
        "SELECT COUNT(*) AS n FROM admin_accounts WHERE role = 'admin' AND disabled = 0",
      ),
      sessionInsert: db.prepare(
        `INSERT INTO admin_sessions (token_hash, account, csrf, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      sessionGet: db.prepare<[string, number], SessionDbRow>(
        `SELECT s.token_hash, s.account, a.role, s.csrf, s.created_at, s.expires_at
           FROM admin_sessions s JOIN admin_accounts a ON a.name = s.account
          WHERE s.token_hash = +? AND s.expires_at > +? AND a.disabled = 0`,
      ),
      sessionExtend: db.prepare('UPDATE admin_sessions SET expires_at = ? WHERE token_hash = ?'),
      sessionDelete: db.prepare('DELETE FROM admin_sessions WHERE token_hash = ?'),
      sessionDeleteOf: db.prepare('DELETE FROM admin_sessions WHERE account = ?'),
      sessionPurge: db.prepare('DELETE FROM admin_sessions WHERE expires_at <= ?'),
    };
  }

  count(): number {
    return this.q.count.get()?.n ?? 0;
  }

  get(name: string): Account | undefined {
    const row = this.q.get.get(name);
    return row ? toAccount(row) : undefined;
  }

  list(): Account[] {
    return this.q.list.all().map(toAccount);
  }

  /** Throws an error with code ACCOUNT_EXISTS when the name is taken. */
  create(a: { name: string; role: AccountRole; passwordHash: string }, nowMs: number): Account {
    try {
      this.q.insert.run({ ...a, now: nowMs });
    } catch (cause) {
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw Object.assign(new Error(`account "${a.name}" exists`, { cause }), { code: 'ACCOUNT_EXISTS' });
      }
      throw cause;
    }
    return this.get(a.name)!;
  }

  setPassword(name: string, passwordHash: string, nowMs: number): boolean {
    return this.q.setPassword.run(passwordHash, nowMs, name).changes === 1;
  }

  setRole(name: string, role: AccountRole, nowMs: number): boolean {
    return this.q.setRole.run(role, nowMs, name).changes === 1;
  }

  setDisabled(name: string, disabled: boolean, nowMs: number): boolean {
    const changed = this.q.setDisabled.run(disabled ? 1 : 0, nowMs, name).changes === 1;
    if (changed && disabled) this.q.sessionDeleteOf.run(name);
    return changed;
  }

  /** Sessions go with the account (ON DELETE CASCADE). */
  remove(name: string): boolean {
    return this.q.remove.run(name).changes === 1;
  }

  /** Enabled admins: the last one may not be removed, disabled or demoted. */
  activeAdmins(): number {
    return this.q.countAdmins.get()?.n ?? 0;
  }

  createSession(s: { tokenHash: string; account: string; csrf: string; createdAt: number; expiresAt: number }): void {
    this.q.sessionInsert.run(s.tokenHash, s.account, s.csrf, s.createdAt, s.expiresAt);
  }

  /** A live session of an enabled account, or undefined. */
  session(tokenHash: string, nowMs: number): SessionRow | undefined {
    const r = this.q.sessionGet.get(tokenHash, nowMs);
    if (!r) return undefined;
    return {
      tokenHash: r.token_hash,
      account: r.account,
      role: r.role,
      csrf: r.csrf,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    };
  }

  extendSession(tokenHash: string, expiresAt: number): void {
    this.q.sessionExtend.run(expiresAt, tokenHash);
  }

  deleteSession(tokenHash: string): void {
    this.q.sessionDelete.run(tokenHash);
  }

  deleteSessionsOf(account: string): number {
    return this.q.sessionDeleteOf.run(account).changes;
  }

  purgeExpiredSessions(nowMs: number): number {
    return this.q.sessionPurge.run(nowMs).changes;
  }
}

function toAccount(r: AccountDbRow): Account {
  return {
    name: r.name,
    role: r.role,
    passwordHash: r.password_hash,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
