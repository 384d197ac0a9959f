import { describe, expect, it } from 'vitest';
import sinon from 'sinon';
import { generateKeyPairSync } from 'node:crypto';
import { AckCoalescer } from '../../src/sync/ack-coalescer.js';
import { openSigned } from '../../src/sync/inbound.js';
import { envelopeBytes, signEnvelope } from '../../src/sync/protocol/envelope.js';
import { eventsAckSchema } from '../../src/sync/protocol/schemas.js';

const central = generateKeyPairSync('ed25519');
const forger = generateKeyPairSync('ed25519');
const keys = new Map([['k1', central.publicKey]]);
const ack = (upTo: number, key = central.privateKey) => envelopeBytes(signEnvelope({ upTo }, 'k1', key));

function setup() {
  const open = sinon.spy((p: Buffer) => openSigned(p, keys, 65_536, eventsAckSchema));
  const apply = sinon.spy();
  const reject = sinon.spy();
  return { open, apply, reject, acks: new AckCoalescer({ open, apply, reject, maxBytes: 65_536 }) };
}

describe('AckCoalescer', () => {
  it('checks only the highest of a burst of acks and applies it once', () => {
    const { open, apply, reject, acks } = setup();
    for (let i = 1; i <= 100; i++) acks.push(ack(i));
    acks.drain();
    expect(open.callCount).toBe(1);
    expect(apply.args).toEqual([[100]]);
    expect(reject.callCount).toBe(0);
  });

  it('a forged higher ack is refused and the real one below it still applies', () => {
    const { apply, reject, acks } = setup();
    acks.push(ack(40));
    acks.push(ack(1_000_000, forger.privateKey));
    acks.push(ack(50));
    acks.drain();
    expect(reject.args.map((a) => a[0])).toEqual(['BAD_SIGNATURE']);
    expect(apply.args).toEqual([[50]]);
  });

  it('unreadable acks are refused with their code; nothing valid, nothing applied', () => {
    const { apply, reject, acks } = setup();
    acks.push(Buffer.from('not json'));
    acks.push(ack(7, forger.privateKey));
    acks.drain();
    expect(reject.args.map((a) => a[0]).sort()).toEqual(['BAD_JSON', 'BAD_SIGNATURE']);
    expect(apply.callCount).toBe(0);
    acks.push(Buffer.from('{'));
    acks.push(ack(9));
    acks.drain();
    expect(apply.args).toEqual([[9]]);
    expect(reject.args.map((a) => a[0]).sort()).toEqual(['BAD_JSON', 'BAD_JSON', 'BAD_SIGNATURE']);
  });

  it('drains on its own after push, once per burst', async () => {
    const { apply, acks } = setup();
    acks.push(ack(1));
    acks.push(ack(2));
    await new Promise((r) => setImmediate(r));
    expect(apply.args).toEqual([[2]]);
  });

  it('refuses an oversize ack before reading it: nothing parses it, a real ack still applies', () => {
    const { open, apply, reject, acks } = setup();
    const parse = sinon.spy(JSON, 'parse');
    try {
      // A well-formed signed ack padded past the limit: were it parsed, its upTo would order it first.
      const big = Buffer.from(JSON.stringify({ ...JSON.parse(ack(1_000_000).toString()), pad: 'x'.repeat(70_000) }));
      parse.resetHistory();
      acks.push(big);
      expect(parse.callCount).toBe(0);
    } finally {
      parse.restore();
    }
    expect(reject.args).toEqual([['OVERSIZE', expect.stringContaining('exceeds 65536')]]);
    acks.push(ack(3));
    acks.drain();
    expect(apply.args).toEqual([[3]]);
    expect(open.callCount).toBe(1);
  });
});
