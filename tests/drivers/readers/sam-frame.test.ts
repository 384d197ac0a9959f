/**
 * The SAM frame codec fed raw bytes: known frames from the protocol text,
 * every cut, garbage, bad checksums and impossible lengths.
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FRAME_REJECT, type FrameItem } from '../../../src/drivers/readers/sam/frame.js';
import { CMD, MIN_ANSWER_LENGTH, MIN_COMMAND_LENGTH } from '../../../src/drivers/readers/sam/protocol.js';
import { encodeBaseAnswer } from '../../../src/drivers/readers/sam/base-info.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const answers = () => new FrameDecoder({ minLength: MIN_ANSWER_LENGTH });
const frames = (items: FrameItem[]) => items.filter((i) => i.type === 'frame').map((i) => (i as { body: Buffer }).body.toString('hex'));
const rejects = (items: FrameItem[]) => items.filter((i) => i.type === 'rejected').map((i) => (i as { reason: string }).reason);

const CARD = {
  name: '张三', sex: '1', nation: '01', birthDate: '19491231', address: '北京市东城区景山前街4号',
  number: '11010519491231002X', authority: '北京市公安局东城分局', validFrom: '20200101', validTo: '20400101',
};

describe('encodeFrame', () => {
  it('builds the command frames as the protocol documents them (XOR over length and body)', () => {
    expect(encodeFrame(CMD.find)).toEqual(hex('AAAAAA9669 0003 2001 22'));
    expect(encodeFrame(CMD.select)).toEqual(hex('AAAAAA9669 0003 2002 21'));
    expect(encodeFrame(CMD.readBase)).toEqual(hex('AAAAAA9669 0003 3001 32'));
    expect(encodeFrame(CMD.samStatus)).toEqual(hex('AAAAAA9669 0003 11FF ED'));
    expect(encodeFrame(CMD.resetSam)).toEqual(hex('AAAAAA9669 0003 10FF EC'));
  });
  it('frames a no-card answer: 00 00 80', () => {
    expect(encodeFrame([0, 0, 0x80])).toEqual(hex('AAAAAA9669 0004 000080 84'));
  });
});

describe('FrameDecoder', () => {
  const base = encodeFrame(Buffer.concat([Buffer.from([0, 0, 0x90]), encodeBaseAnswer(CARD)]));
  const noCard = encodeFrame([0, 0, 0x80]);

  it('a read-base answer is 1295 bytes: LEN 0x0508 (SW 3 + lengths 4 + text 256 + photo 1024 + CHK 1)', () => {
    expect(base.length).toBe(1295);
    expect(base.readUInt16BE(5)).toBe(0x0508);
  });

  it('assembles a frame cut at every byte boundary, and one fed a byte at a time', () => {
    const wire = Buffer.concat([noCard, base]);
    for (let cut = 1; cut < wire.length; cut++) {
      const d = answers();
      const items = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(rejects(items), `cut at ${cut}`).toEqual([]);
      expect(frames(items), `cut at ${cut}`).toEqual(['000080', base.subarray(7, -1).toString('hex')]);
      expect(d.pending).toBe(0);
    }
    const d = answers();
    const items = [...wire].flatMap((b) => d.push(Buffer.from([b])));
    expect(frames(items)).toHaveLength(2);
  });

  it('skips garbage before and between frames, reporting it, and resyncs on a preamble preceded by extra AA bytes', () => {
    const d = answers();
    const items = d.push(Buffer.concat([hex('0102AA'), noCard, hex('FFAA96'), hex('AA'), noCard, hex('AAAA')]));
    expect(frames(items)).toEqual(['000080', '000080']);
    expect(rejects(items)).toEqual([FRAME_REJECT.garbage, FRAME_REJECT.garbage]);
    expect(d.pending).toBe(2); // AA AA may start a preamble
    const rest = d.push(noCard.subarray(2));
    expect(frames(rest)).toEqual(['000080']);
  });

  it('refuses a bad checksum and still finds the good frame right after it', () => {
    const bad = Buffer.from(noCard);
    bad[bad.length - 1] = bad.readUInt8(bad.length - 1) ^ 0x01;
    const d = answers();
    const items = d.push(Buffer.concat([bad, noCard]));
    expect(rejects(items)).toEqual([FRAME_REJECT.badChecksum, FRAME_REJECT.garbage]);
    expect(frames(items)).toEqual(['000080']);
  });

  it('refuses impossible lengths (too short for SW1..SW3 + CHK, over the maximum) and resyncs', () => {
    const d = answers();
    const tooShort = hex('AAAAAA9669 0002 00 02');
    const tooLong = hex('AAAAAA9669 FFFF');
    const items = d.push(Buffer.concat([tooShort, tooLong, noCard]));
    expect(frames(items)).toEqual(['000080']);
    expect(rejects(items).filter((r) => r === FRAME_REJECT.badLength)).toHaveLength(2);
  });

  it('a corrupted length that swallows the next frame is caught by the checksum, and that next frame is recovered', () => {
    const broken = Buffer.from(noCard);
    broken.writeUInt16BE(0x0010, 5); // claims 16 bytes: runs into the next frame
    const d = answers();
    const items = d.push(Buffer.concat([broken, noCard, noCard]));
    expect(rejects(items)).toContain(FRAME_REJECT.badChecksum);
    expect(frames(items).length).toBeGreaterThanOrEqual(1);
    expect(frames(items).every((f) => f === '000080')).toBe(true);
  });

  it('reset() reports a half frame, which never joins later bytes', () => {
    const d = answers();
    expect(d.push(base.subarray(0, 100))).toEqual([]);
    expect(d.reset()).toEqual([{ type: 'rejected', reason: FRAME_REJECT.incomplete, length: 100 }]);
    expect(frames(d.push(noCard))).toEqual(['000080']);
    expect(d.reset()).toEqual([]);
  });

  it('decodes commands with the command minimum length', () => {
    const d = new FrameDecoder({ minLength: MIN_COMMAND_LENGTH });
    expect(frames(d.push(encodeFrame(CMD.readBase)))).toEqual(['3001']);
  });
});
