import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/index.js';
import { VisitorStore } from '../src/store/visitors.js';
import { eraseVisitor } from '../src/visitor-erase.js';

let dir: string;
let store: Store;
afterEach(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('eraseVisitor (purge-person)', () => {
  it('removes the visitor row and the photo file, and only that visitor', () => {
    dir = mkdtempSync(join(tmpdir(), 'gc-erase-'));
    store = openStore({ path: join(dir, 'gate.db'), synchronous: 'normal', gateId: 'g1' });
    const visitors = new VisitorStore(store.db);
    mkdirSync(join(dir, 'photos'));
    const now = Date.now();
    for (const id of ['v-1', 'v-2']) {
      store.whitelist.upsert({ people: [{ id, kind: 'visitor', name: `Visitor ${id}` }] }, 'local');
      writeFileSync(join(dir, 'photos', `${id}.jpg`), 'jpeg bytes');
      visitors.insert({
        personId: id, name: `Visitor ${id}`, idType: 'resident', idMasked: '1101**********002X', idKey: `id:${id}`,
        phone: '13800000000', organisation: 'Org', purpose: 'meeting', host: 'Host', validFrom: now, validTo: now + 3_600_000,
        escort: false, review: 'none', credentialKey: `id:${id}`, photoFile: `${id}.jpg`, registeredAt: now, operator: 'admin',
      });
    }
    expect(eraseVisitor(visitors, dir, 'v-1')).toBe(true);
    expect(visitors.get('v-1')).toBeUndefined();
    expect(existsSync(join(dir, 'photos', 'v-1.jpg'))).toBe(false);
    expect(visitors.get('v-2')?.name).toBe('Visitor v-2');
    expect(existsSync(join(dir, 'photos', 'v-2.jpg'))).toBe(true);
    expect(eraseVisitor(visitors, dir, 'v-1')).toBe(false); // already gone: nothing else touched
  });
});
