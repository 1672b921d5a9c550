import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine, parseLine } from '../../../../src/core/message';
import { Batcher } from '../../../../src/mapper/collectd/batcher';
import { CollectdConverter } from '../../../../src/mapper/collectd/converter';

const T0 = new Date('2026-01-02T03:04:05Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const sample = (key: string, collectdMs: number, value = 1) => ({ group: 'g', key, value, time: new Date(Date.UTC(2021, 3, 7, 19) + collectdMs) });

describe('collectd batcher: the window, on a fake clock', () => {
  it('holds a batch for the window after its first sample arrived, not after the last', () => {
    const b = new Batcher(200);
    b.add(sample('a', 0), at(0));
    b.add(sample('b', 10), at(150));
    assert.equal(b.nextDue(), at(200).getTime());
    assert.deepEqual(b.flush(at(199), false), []);
    const [batch, ...rest] = b.flush(at(200), false);
    assert.deepEqual(rest, []);
    assert.deepEqual([...(batch?.groups.get('g')?.keys() ?? [])], ['a', 'b']);
    assert.equal(b.nextDue(), undefined);
  });

  it('joins samples within the window of the first one in collectd time, and only those', () => {
    const b = new Batcher(200);
    b.add(sample('a', 0), at(0));
    b.add(sample('b', 200), at(1));
    b.add(sample('c', 201), at(2));
    const batches = b.flush(at(1000), false);
    assert.deepEqual(batches.map((x) => [...x.groups.get('g')?.keys() ?? []]), [['a', 'b'], ['c']]);
  });

  it('a late sample of an already published cycle opens a batch of its own', () => {
    const b = new Batcher(200);
    b.add(sample('a', 0), at(0));
    assert.equal(b.flush(at(200), false).length, 1);
    b.add(sample('b', 5), at(250));
    assert.equal(b.nextDue(), at(450).getTime());
  });

  it('drain releases everything held, whatever the time', () => {
    const b = new Batcher(200);
    b.add(sample('a', 0), at(0));
    b.add(sample('a', 10_000), at(100));
    assert.equal(b.flush(at(0), true).length, 2);
    assert.equal(b.nextDue(), undefined);
  });

  it('the converter reports when it is next due and releases Thin Edge JSON then', () => {
    const c = new CollectdConverter({ outputTopic: 'te/device/main///m/', windowMs: 200 });
    assert.equal(c.nextFlushAt(), undefined);
    c.convert(parseLine('[collectd/h/cpu/idle] 1617822000:97'), at(0));
    c.convert(parseLine('[collectd/h/cpu/user] 1617822000:3'), at(120));
    assert.deepEqual(c.nextFlushAt(), at(200));
    assert.deepEqual(c.flush(at(100), false), []);
    assert.deepEqual(c.flush(at(200), false).map(formatLine), ['[te/device/main///m/] {"time":"2021-04-07T19:00:00Z","cpu":{"idle":97,"user":3}}']);
  });
});
