import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { buildReaders, NfcReader, SerialReader, SimReader } from '../../../src/drivers/readers/index.js';

const base = { gate: { id: 'g1', site: 's1' }, privacy: { idHashKey: '00'.repeat(16) } };

describe('buildReaders', () => {
  it('builds one reader per config entry, with id, type and direction from the config', async () => {
    const cfg = parseConfig({
      ...base,
      readers: [
        { id: 'entry', type: 'pcsc', direction: 'in', name: 'ACR122U' },
        { id: 'exit', type: 'serial', direction: 'out', path: '/dev/serial/by-id/usb-x', format: 'dec' },
        { id: 'desk', type: 'sim', direction: 'in' },
      ],
    });
    const readers = buildReaders(cfg.readers, { log: pino({ level: 'silent' }), input: new PassThrough() });
    expect(readers.map((r) => [r.id, r.type, r.direction, r.connected])).toEqual([
      ['entry', 'pcsc', 'in', false],
      ['exit', 'serial', 'out', false],
      ['desk', 'sim', 'in', false],
    ]);
    expect(readers[0]).toBeInstanceOf(NfcReader);
    expect(readers[1]).toBeInstanceOf(SerialReader);
    expect(readers[2]).toBeInstanceOf(SimReader);
  });

  it('refuses a serial reader without a path with a coded error', () => {
    expect(() =>
      buildReaders([{ id: 'x', type: 'serial', use: 'gate', direction: 'in', baudRate: 9600, format: 'hex', repeatMs: 0, pollMs: 250 }], {
        log: pino({ level: 'silent' }),
      }),
    ).toThrow(expect.objectContaining({ code: 'READER_CONFIG' }));
  });
});
