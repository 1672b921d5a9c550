import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from '../../../src/bridge/outbox/crc32';
import { HEADER_BYTES, decodeAt, encodeRecord, encodedSize } from '../../../src/bridge/outbox/record';

describe('crc32', () => {
  for (const [input, expected] of [
    ['', 0],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ] as const) {
    it(`of '${input}' is ${expected.toString(16)}`, () => assert.equal(crc32(Buffer.from(input)), expected));
  }
});

describe('outbox record encoding', () => {
  const rows = [
    { name: 'a SmartREST line', seq: 1, topic: 's/us', payload: '500', qos: 1, retain: false },
    { name: 'an empty payload at QoS 0', seq: 2, topic: 's/uat', payload: '', qos: 0, retain: false },
    { name: 'a retained message with UTF-8 in topic and payload', seq: 2 ** 40, topic: 'inventory/managedObjects/update/Gerät', payload: '{"t":"°C"}', qos: 1, retain: true },
    { name: 'the largest sequence number (48 bits)', seq: 2 ** 48 - 1, topic: 't', payload: 'x'.repeat(70_000), qos: 2, retain: false },
  ] as const;
  for (const r of rows) {
    it(`round-trips ${r.name}`, () => {
      const msg = { topic: r.topic, payload: Buffer.from(r.payload), qos: r.qos, retain: r.retain };
      const buf = encodeRecord(r.seq, msg);
      assert.equal(buf.length, encodedSize(r.topic, msg.payload));
      const d = decodeAt(Buffer.concat([Buffer.from('xx'), buf]), 2);
      assert.equal(d.kind, 'record');
      if (d.kind !== 'record') return;
      assert.deepEqual({ ...d.record, payload: Buffer.from(d.record.payload).toString() }, { seq: r.seq, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, size: buf.length });
    });
  }
});

describe('outbox record decoding of damaged bytes', () => {
  const good = encodeRecord(7, { topic: 'event/events/create', payload: Buffer.from('{"type":"x"}'), qos: 1, retain: false });
  const damaged = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  const rows: ReadonlyArray<readonly [string, Buffer, string]> = [
    ['fewer bytes than a header', good.subarray(0, 5), 'incomplete'],
    ['a header whose body is cut (torn append)', good.subarray(0, good.length - 3), 'incomplete'],
    ['a flipped payload byte', damaged(good.length - 2, 0x21), 'corrupt'],
    ['a flipped CRC byte', damaged(5, good[5]! ^ 0xff), 'corrupt'],
    ['a zero length (zeroed block after a power cut)', Buffer.alloc(32), 'garbage'],
    ['an absurd length', Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]), 'garbage'],
  ];
  for (const [name, bytes, kind] of rows) it(`${name} → ${kind}`, () => assert.equal(decodeAt(bytes, 0).kind, kind));

  it('an incomplete record says how many bytes it needs', () => {
    const d = decodeAt(good.subarray(0, HEADER_BYTES + 1), 0);
    assert.deepEqual(d, { kind: 'incomplete', need: good.length });
  });

  it('a corrupt record says how many bytes to skip', () => {
    assert.deepEqual(decodeAt(damaged(good.length - 1, 0), 0), { kind: 'corrupt', size: good.length });
  });
});
