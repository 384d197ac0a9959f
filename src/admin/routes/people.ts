/**
 * Photos by opaque person id, and who is inside now (the muster list). A
 * photo is the re-encoded file of a local visitor, or the JPEG central sent
 * with the whitelist person.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from '../server.js';
import { notFound } from '../errors.js';
import { opaqueId, parse } from '../validate.js';
import { photoUrl } from '../live-view.js';
import { searchCall } from './journal.js';
import { formatTs } from '../../store/time.js';

const idParams = z.strictObject({ personId: opaqueId });

export function peopleRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const { deps, visitors } = ctx;
  const photoDir = join(deps.dataDir, 'photos');
  const signedIn = { config: { access: 'signed-in' as const } };

  async function photoOf(personId: string): Promise<Buffer | undefined> {
    const file = visitors.get(personId)?.photoFile;
    if (file) return readFile(join(photoDir, basename(file))).catch(() => undefined);
    const ref = deps.store.whitelist.person(personId)?.photo;
    if (!ref) return undefined;
    // Central sends base64 JPEG; a short value without base64 padding room is a file name.
    if (/^[A-Za-z0-9_.-]{1,200}\.jpe?g$/.test(ref)) {
      return readFile(join(photoDir, basename(ref))).catch(() => undefined);
    }
    const bytes = Buffer.from(ref, 'base64');
    return bytes.length > 0 ? bytes : undefined;
  }

  app.get('/api/photos/:personId', signedIn, async (req, reply) => {
    const { personId } = parse(idParams, req.params);
    const bytes = await photoOf(personId);
    if (!bytes) throw notFound('photo');
    return reply.type('image/jpeg').send(bytes);
  });

  app.get('/api/inside', signedIn, async () => {
    const now = deps.clock();
    const people = (await searchCall(() => ctx.searcher.inside()))
      .map(({ personId, since }) => {
        const who = ctx.live.person(personId);
        const v = visitors.get(personId);
        return {
          personId,
          name: who?.name ?? null,
          kind: who?.kind ?? null,
          organisation: v?.organisation ?? null,
          host: v?.host ?? null,
          phone: v?.phone ?? null,
          since: formatTs(since),
          photo: who?.hasPhoto ? photoUrl(personId) : null,
        };
      })
      .sort((a, b) => (a.since < b.since ? -1 : 1));
    return { at: formatTs(now), count: people.length, people };
  });
}
