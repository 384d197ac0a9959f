/**
 * Repeated reads of one credential inside a window are one tap. Readers that
 * repeat while a card stays in the field, and PC/SC readers whose field
 * flickers (pokusew/nfc-pcsc#34), would otherwise make one tap look like
 * several. The window slides: each repeat extends it, so a card held still
 * for a long time is still one tap; a new tap needs a pause of `windowMs`.
 */
export class RepeatFilter {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True when this read is a new tap, false when it repeats the previous one. */
  accept(key: string, at: number): boolean {
    const last = this.lastSeen.get(key);
    this.lastSeen.set(key, at);
    if (this.lastSeen.size > 64) this.prune(at);
    return last === undefined || at - last >= this.windowMs;
  }

  private prune(now: number): void {
    for (const [key, at] of this.lastSeen) if (now - at >= this.windowMs) this.lastSeen.delete(key);
  }
}
