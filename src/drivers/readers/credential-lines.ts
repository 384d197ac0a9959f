/**
 * Framed lines → reader events, shared by the serial and simulated readers:
 * parse with the configured format, fold repeats into one tap, and report
 * anything unusable as `rejected` with a warn log that carries the reason and
 * the length only, never the content (it may be an ID number).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import type { RawCredential, ReaderEventMap } from '../types.js';
import { PARSERS, type LineFormat } from './formats/index.js';
import type { FramedLine } from './line-framer.js';
import { RepeatFilter } from './repeat-filter.js';

export interface CredentialLinesOptions {
  readerId: string;
  format: LineFormat;
  repeatMs: number;
  log: Logger;
  events: EventEmitter<ReaderEventMap>;
}

export class CredentialLines {
  private readonly parse: (line: string) => ReturnType<(typeof PARSERS)[LineFormat]>;
  private readonly repeats: RepeatFilter;

  constructor(private readonly opts: CredentialLinesOptions) {
    this.parse = PARSERS[opts.format];
    this.repeats = new RepeatFilter(opts.repeatMs);
  }

  handle(item: FramedLine): void {
    if (item.type === 'rejected') {
      this.reject(item.reason, item.length, item.at);
      return;
    }
    const parsed = this.parse(item.text);
    if (!parsed.ok) {
      this.reject(parsed.reason, item.text.length, item.at);
      return;
    }
    const { cred } = parsed;
    if (!this.repeats.accept(repeatKey(cred), item.at)) {
      this.opts.log.debug({ reader: this.opts.readerId, kind: cred.kind }, 'repeated read folded into previous tap');
      return;
    }
    this.opts.events.emit('credential', cred, item.at);
  }

  private reject(reason: string, length: number, at: number): void {
    this.opts.log.warn({ reader: this.opts.readerId, reason, length }, 'reader input rejected');
    this.opts.events.emit('rejected', reason, at);
  }
}

export function repeatKey(cred: RawCredential): string {
  switch (cred.kind) {
    case 'card':
      return `card:${cred.uid}`;
    case 'id':
      return `id:${cred.number.toUpperCase()}`;
    case 'pass':
      return `pass:${cred.token}`;
  }
}
