/**
 * Journal search with paging and CSV export. Filters travel in a POST body,
 * not the URL: a person filter may be a name, and names stay out of URLs
 * and access logs. Every filter is a bound SQL parameter (store/journal-search.ts).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { REASONS } from '../../controller/reasons.js';
import { CSV_COLUMNS, csvLine, csvRow, type JournalFilter } from '../../store/journal-search.js';
import { EVENT_TYPES, type JournalEvent } from '../../store/types.js';
import { isoTime, parse, plain } from '../validate.js';
import { AdminError } from '../errors.js';
import { recordAdminAction } from '../audit.js';
import { operatorOf } from '../session.js';

const when = isoTime;
const blankToUndef = (v: unknown) => (v === '' || v === null ? undefined : v);

const filterBody = z.strictObject({
  from: z.preprocess(blankToUndef, when.optional()),
  to: z.preprocess(blankToUndef, when.optional()),
  type: z.preprocess(blankToUndef, z.enum(EVENT_TYPES).optional()),
  reason: z.preprocess(blankToUndef, z.enum(REASONS).optional()),
  direction: z.preprocess(blankToUndef, z.enum(['in', 'out']).optional()),
  // No control characters (a NUL would end SQLite's LIKE pattern early); % and _ are escaped by the store.
  person: z.preprocess(blankToUndef, plain(400).trim().min(1).max(100).optional()),
  page: z.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.number().int().min(1).max(200).default(50),
});

function toFilter(b: z.infer<typeof filterBody>): JournalFilter {
  const f: JournalFilter = {};
  if (b.from !== undefined) f.fromMs = b.from;
  if (b.to !== undefined) f.toMs = b.to;
  if (b.type) f.type = b.type;
  if (b.reason) f.reason = b.reason;
  if (b.direction) f.direction = b.direction;
  if (b.person) f.person = b.person;
  return f;
}

/**
 * The filters of an export, as its admin_action event records them. A person
 * filter may be a fragment of a name, which the journal never holds: only
 * that there was one.
 */
function filterFields(b: z.infer<typeof filterBody>): Record<string, string | boolean | undefined> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    filterFrom: iso(b.from), filterTo: iso(b.to), filterType: b.type, filterReason: b.reason,
    filterDirection: b.direction, filterPerson: b.person !== undefined,
  };
}

/** The worker's failures as API errors: a runaway search is the caller's to narrow. */
export async function searchCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: string }).code === 'SEARCH_TIMEOUT') {
      throw new AdminError('SEARCH_TIMEOUT', 503, (err as Error).message, { cause: err });
    }
    throw err;
  }
}

export function journalRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const signedIn = { config: { access: 'signed-in' as const } };
  app.post('/api/journal/search', signedIn, async (req) => {
    const body = parse(filterBody, req.body);
    const page = await searchCall(() => ctx.searcher.search(toFilter(body), body.page, body.pageSize));
    return { ...page, events: page.events.map((ev) => ctx.live.item(ev)) };
  });

  app.post('/api/journal/export', signedIn, async (req, reply) => {
    const operator = operatorOf(req).account;
    const body = parse(filterBody, req.body);
    const events = ctx.searcher.iterate(toFilter(body));
    const gate = ctx.deps.gate.status().gate;
    async function* lines() {
      // The BOM lets spreadsheet programs read the UTF-8 (Chinese reasons typed by guards).
      yield `\uFEFF${csvLine(CSV_COLUMNS)}\r\n`;
      for await (const ev of events) yield `${csvRow(ev)}\r\n`;
    }
    const seq = recordAdminAction(ctx.deps, operator, 'journal_exported', filterFields(body));
    req.log.info({ seq }, 'journal exported');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="journal-${gate}.csv"`)
      .send(Readable.from(lines()));
  });
}
