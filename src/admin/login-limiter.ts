/**
 * Sign-in throttling. Two independent brakes:
 * - per client address: at most `perIp` attempts in a sliding `windowMs`
 *   (slows a scan over many account names);
 * - per account name (known or not, so lockout does not reveal which names
 *   exist): `maxFailures` consecutive failures lock the name for `lockMs`.
 * Kept in memory: a restart is an operator's act, not an attacker's.
 */
import type { Clock } from '../types.js';

export interface LimiterOptions {
  perIp: number;
  windowMs: number;
  maxFailures: number;
  lockMs: number;
  /** Bound on tracked keys; the oldest are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_LIMITS: LimiterOptions = {
  perIp: 20,
  windowMs: 10 * 60_000,
  maxFailures: 5,
  lockMs: 15 * 60_000,
  maxKeys: 10_000,
};

export type LimitVerdict =
  | { ok: true }
  /** `report`: the first refusal for this key in a minute, worth a journal event (a flood is not). */
  | { ok: false; code: 'RATE_LIMITED' | 'LOCKED_OUT'; retryAfterS: number; report: boolean };

const REPORT_EVERY_MS = 60_000;

export class LoginLimiter {
  private readonly ipHits = new Map<string, number[]>();
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: LimiterOptions = DEFAULT_LIMITS,
  ) {}

  /** Call before checking the password; counts the attempt against the address. */
  attempt(ip: string, account: string): LimitVerdict {
    const now = this.clock();
    const lock = this.failures.get(account.toLowerCase());
    if (lock && lock.lockedUntil > now) {
      const retryAfterS = Math.ceil((lock.lockedUntil - now) / 1000);
      return { ok: false, code: 'LOCKED_OUT', retryAfterS, report: this.report(`a:${account.toLowerCase()}`, now) };
    }
    const hits = (this.ipHits.get(ip) ?? []).filter((t) => t > now - this.opts.windowMs);
    if (hits.length >= this.opts.perIp) {
      this.ipHits.set(ip, hits);
      const retryAfterS = Math.ceil((hits[0]! + this.opts.windowMs - now) / 1000);
      return { ok: false, code: 'RATE_LIMITED', retryAfterS, report: this.report(`ip:${ip}`, now) };
    }
    hits.push(now);
    this.remember(this.ipHits, ip, hits);
    return { ok: true };
  }

  /** A wrong password or unknown name; returns true when this failure locked the name. */
  failed(account: string): boolean {
    const key = account.toLowerCase();
    const now = this.clock();
    const f = this.failures.get(key) ?? { count: 0, lockedUntil: 0 };
    if (f.lockedUntil && f.lockedUntil <= now) f.count = 0;
    f.count += 1;
    f.lockedUntil = f.count >= this.opts.maxFailures ? now + this.opts.lockMs : 0;
    this.remember(this.failures, key, f);
    return f.lockedUntil > 0;
  }

  succeeded(account: string): void {
    this.failures.delete(account.toLowerCase());
  }

  /** An admin unlocks an account (e.g. after resetting its password). */
  unlock(account: string): void {
    this.failures.delete(account.toLowerCase());
  }

  private report(key: string, now: number): boolean {
    const last = this.reported.get(key);
    if (last !== undefined && now - last < REPORT_EVERY_MS) return false;
    this.remember(this.reported, key, now);
    return true;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.opts.maxKeys) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
    }
  }
}
