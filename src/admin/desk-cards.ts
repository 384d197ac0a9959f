/**
 * The reception desk's ID card reader as the registration form uses it
 * (issue #17). "Read ID card" takes the card lying on the desk reader (read
 * in the last `freshMs`) or waits for the next one. The clear ID number then
 * stays here, in a short-lived slot the form refers to by an opaque random
 * id: it never goes to the browser, a URL, a log or the database. The
 * registration takes the slot once; an unused slot is forgotten after
 * `slotTtlMs`.
 *
 * Only what a registration needs crosses from the driver (DeskIdCard: name,
 * number, the card's last valid day); of that, the browser sees the name,
 * the masked number and the validity end.
 */
import { randomBytes } from 'node:crypto';
import type { DeskCardReader, DeskIdCard } from '../drivers/types.js';
import type { Clock } from '../types.js';

export interface DeskSlot {
  card: DeskIdCard;
  /** The account that read it: only it may register with the slot. */
  account: string;
  expiresAt: number;
}

export interface DeskCardsOptions {
  /** How long an unused read stays usable (default 10 min). */
  slotTtlMs?: number;
  /** A card read this recently, not yet handed out, answers "Read ID card" at once (default 20 s). */
  freshMs?: number;
}

/** What "Read ID card" gets: the card, or why the card placed cannot be used. */
export type DeskRead = { card: DeskIdCard } | { refused: string };
type Waiter = (read: DeskRead | undefined) => void;

export class DeskCards {
  private readonly slots = new Map<string, DeskSlot>();
  private readonly waiters: Waiter[] = [];
  private latest: { read: DeskRead; at: number } | undefined;
  private readonly slotTtlMs: number;
  private readonly freshMs: number;

  constructor(
    readonly reader: DeskCardReader,
    private readonly clock: Clock,
    opts: DeskCardsOptions = {},
  ) {
    this.slotTtlMs = opts.slotTtlMs ?? 10 * 60_000;
    this.freshMs = opts.freshMs ?? 20_000;
    reader.on('card', this.onCard);
    reader.on('refused', this.onRefused);
  }

  close(): void {
    this.reader.off('card', this.onCard);
    this.reader.off('refused', this.onRefused);
    for (const w of this.waiters.splice(0)) w(undefined);
    this.slots.clear();
    this.latest = undefined;
  }

  private readonly onCard = (card: DeskIdCard): void => this.deliver({ card });
  private readonly onRefused = (reason: string): void => this.deliver({ refused: reason });

  private deliver(read: DeskRead): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(read);
    else this.latest = { read, at: this.clock() };
  }

  /**
   * The card on the reader now, or the next one placed within `timeoutMs`
   * (or why it cannot be used); undefined when none came or `cancel` fired.
   */
  next(timeoutMs: number, cancel: (abort: () => void) => void): Promise<DeskRead | undefined> {
    const latest = this.latest;
    this.latest = undefined;
    if (latest && this.clock() - latest.at <= this.freshMs) return Promise.resolve(latest.read);
    return new Promise((resolve) => {
      const waiter: Waiter = (read) => {
        clearTimeout(timer);
        resolve(read);
      };
      const drop = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter(undefined);
      };
      const timer = setTimeout(drop, timeoutMs);
      this.waiters.push(waiter);
      cancel(drop);
    });
  }

  /** Keep a card's number on the gate; the returned id is what the form sends back. */
  hold(card: DeskIdCard, account: string): string {
    this.prune();
    const id = randomBytes(18).toString('base64url');
    this.slots.set(id, { card, account, expiresAt: this.clock() + this.slotTtlMs });
    return id;
  }

  /** The slot, if it exists, is still alive and was made by this account. */
  peek(id: string, account: string): DeskSlot | undefined {
    this.prune();
    const slot = this.slots.get(id);
    return slot && slot.account === account ? slot : undefined;
  }

  /** A registration used the slot: forget the number. */
  release(id: string): void {
    this.slots.delete(id);
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, s] of this.slots) if (s.expiresAt <= now) this.slots.delete(id);
  }
}

/** The gate's local calendar day, YYYY-MM-DD (a card is valid through its last day). */
export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function cardExpired(card: Pick<DeskIdCard, 'validTo'>, nowMs: number): boolean {
  return card.validTo !== 'long-term' && card.validTo < localDay(nowMs);
}
