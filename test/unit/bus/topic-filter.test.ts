import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filtersMatcher, topicMatches } from '../../../src/bus/topic-filter';

const TABLE: [string, string, boolean][] = [
  ['te/+/+/+/+/m/+', 'te/device/main///m/env', true],
  ['te/+/+/+/+/m/+', 'te/device/main///m/env/meta', false],
  ['te/#', 'te', true],
  ['te/#', 'te/a/b', true],
  ['#', '$SYS/broker/uptime', false],
  ['+/broker/uptime', '$SYS/broker/uptime', false],
  ['$SYS/#', '$SYS/broker/uptime', true],
  ['a/+', 'a/', true],
  ['a/+', 'a', false],
  ['a/b', 'a/b/c', false],
];

describe('topic filters', () => {
  for (const [filter, topic, expected] of TABLE) {
    it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}, alone and among others`, () => {
      assert.equal(topicMatches(filter, topic), expected);
      assert.equal(filtersMatcher([filter])(topic), expected);
      assert.equal(filtersMatcher(['x/y', filter])(topic), expected);
    });
  }
  it('no filters match nothing', () => assert.equal(filtersMatcher([])('a'), false));
});
