import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readWhitelistFile } from '../../src/cli/whitelist-file.js';
import { tempDir } from './capture.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const ID_X = '11010519491231002x'; // lower-case x: hashed as upper-case X (DESIGN.md)
const hmac = (n: string) => `id:${createHmac('sha256', KEY).update(n).digest('hex')}`;

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

function file(name: string, text: string): string {
  tmp ??= tempDir();
  const p = join(tmp!.dir, name);
  writeFileSync(p, text);
  return p;
}

describe('whitelist CSV', () => {
  it('turns rows into people and normalized credentials; ID numbers become HMAC keys', () => {
    const sched = file('sched.csv', 'id,days,from,to,holidays\noffice,1-5,08:00,18:00,2026-10-01;2026-10-02\noffice,6,09:00,12:00,\n');
    const csv = file(
      'people.csv',
      [
        'personId,kind,name,hostId,escort,cards,idNumber,status,validFrom,validTo,maxEntries,scheduleId',
        'p1,staff,"Zhang, Wei",,,04:a2:1b:3c;0A0B0C0D,,active,,,,office',
        `v1,visitor,Li Na,p1,yes,,${ID_X},,2026-11-23T08:00:00+08:00,2026-11-23T18:00:00+08:00,2,`,
      ].join('\n'),
    );
    const data = readWhitelistFile(csv, { hashKey: KEY, schedulesFile: sched });
    expect(data.people).toEqual([
      { id: 'p1', kind: 'staff', name: 'Zhang, Wei' },
      { id: 'v1', kind: 'visitor', name: 'Li Na', hostId: 'p1', escort: true },
    ]);
    expect(data.credentials).toEqual([
      { key: 'card:04A21B3C', personId: 'p1', status: 'active', scheduleId: 'office' },
      { key: 'card:0A0B0C0D', personId: 'p1', status: 'active', scheduleId: 'office' },
      {
        key: hmac('11010519491231002X'),
        personId: 'v1',
        status: 'active',
        validFrom: '2026-11-23T08:00:00+08:00',
        validTo: '2026-11-23T18:00:00+08:00',
        maxEntries: 2,
      },
    ]);
    expect(data.schedules).toEqual([
      {
        id: 'office',
        windows: [
          { days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' },
          { days: [6], from: '09:00', to: '12:00' },
        ],
        holidays: ['2026-10-01', '2026-10-02'],
      },
    ]);
    expect(JSON.stringify(data)).not.toMatch(/11010519491231002/i);
  });

  it('reports every bad row as file:line and field, without echoing an ID number', () => {
    const csv = file(
      'bad.csv',
      [
        'personId,kind,name,cards,idNumber,status,validTo,scheduleId',
        'p1,staff,A,zz,,,,',
        'p2,robot,B,,,,,',
        'p3,staff,C,,110105194912310021,,,',
        'p4,staff,D,01020304,,revoked,,',
        'p5,staff,E,01020305,,,yesterday,',
        'p6,staff,F,01020306,,,,nosuch',
        'p1,staff,G,01020307,,,,',
        'p7,staff,H,01020306,,,,',
      ].join('\n'),
    );
    let msg = '';
    try {
      readWhitelistFile(csv, { hashKey: KEY });
    } catch (e) {
      expect((e as { code: string }).code).toBe('WHITELIST_INVALID');
      msg = (e as Error).message;
    }
    expect(msg).toContain('bad.csv:2: card:');
    expect(msg).toContain('bad.csv:3: kind:');
    expect(msg).toContain('bad.csv:4: idNumber: not a valid');
    expect(msg).toContain('bad.csv:5: status:');
    expect(msg).toContain('bad.csv:6: validTo:');
    expect(msg).toContain('bad.csv:7: scheduleId: no schedule "nosuch"');
    expect(msg).toContain('bad.csv:8: personId: "p1" already defined at line 2');
    expect(msg).toContain('bad.csv:9: credential: same credential as line 7');
    expect(msg).not.toContain('110105194912310021');
  });

  it('refuses ID numbers without the site key rather than sending them clear', () => {
    const csv = file('ids.csv', `personId,kind,name,idNumber\np1,staff,A,${ID_X}\np2,staff,B,440524188001010014\n`);
    expect(() => readWhitelistFile(csv)).toThrow(/ids\.csv:2: idNumber: the file holds ID numbers: give the site key/);
  });

  it('names an unknown column and a missing required one', () => {
    expect(() => readWhitelistFile(file('c1.csv', 'personId,kind,name,colour\n'))).toThrow(/c1\.csv:1: column 4 "colour" is unknown/);
    expect(() => readWhitelistFile(file('c2.csv', 'personId,name\n'))).toThrow(/c2\.csv:1: missing column "kind"/);
  });
});

describe('whitelist JSON', () => {
  it('reads people, credentials and schedules and names the line of a bad element', () => {
    const good = file(
      'wl.json',
      JSON.stringify(
        {
          people: [{ id: 'p1', kind: 'staff', name: 'A' }],
          credentials: [
            { personId: 'p1', card: '04A21B3C' },
            { personId: 'p1', idNumber: '440524188001010014', status: 'suspended' },
          ],
          schedules: [{ id: 's', windows: [{ days: [1], from: '08:00', to: '09:00' }] }],
        },
        null,
        2,
      ),
    );
    const data = readWhitelistFile(good, { hashKey: KEY });
    expect(data.credentials.map((c) => c.key)).toEqual(['card:04A21B3C', hmac('440524188001010014')]);
    expect(data.schedules[0]!.holidays).toEqual([]);

    const bad = file(
      'bad.json',
      '{\n  "people": [\n    {"id": "p1", "kind": "staff", "name": "A"},\n    {"id": "p2", "kind": "staff"}\n  ],\n' +
        '  "credentials": [\n    {"personId": "p1", "card": "04A21B3C", "key": "card:01020304"}\n  ]\n}\n',
    );
    expect(() => readWhitelistFile(bad, { hashKey: KEY })).toThrow(/bad\.json:4: name: .*\n.*bad\.json:7: credential: give exactly one of card, idNumber, passId or key \(got card, key\)/s);
  });

  it('refuses an id: key that is not a hash (a clear number must go through idNumber)', () => {
    const f = file('k.json', JSON.stringify({ people: [{ id: 'p', kind: 'staff', name: 'A' }], credentials: [{ personId: 'p', key: 'id:440524188001010014' }] }));
    expect(() => readWhitelistFile(f)).toThrow(/k\.json:1: key: an id: key must be the 64-hex HMAC/);
  });
});
