import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inventoryMessages } from '../../../src/agent/inventory';
import { formatLine } from '../../../src/core/message';

describe('inventory.json as twin data', () => {
  it('publishes one retained twin message per top-level key, values as JSON', () => {
    const { messages, refused } = inventoryMessages('{"device_OS":{"family":"Debian"},"subtype":"gw","ratio":0.5}', 'device/child1//', 'te');
    assert.deepEqual(messages.map(formatLine), [
      '[te/device/child1///twin/device_OS] {"family":"Debian"}',
      '[te/device/child1///twin/subtype] "gw"',
      '[te/device/child1///twin/ratio] 0.5',
    ]);
    assert.ok(messages.every((m) => m.retain === true && m.qos === 1));
    assert.deepEqual(refused, []);
  });

  it('refuses keys that cannot be a fragment, keeping the others', () => {
    const { messages, refused } = inventoryMessages('{"a/b":1,"@id":"x","+":2,"":3,"ok":true}', 'device/main//', 'te');
    assert.deepEqual(messages.map(formatLine), ['[te/device/main///twin/ok] true']);
    assert.equal(refused.length, 4);
  });

  it('rejects a file that is not a JSON object', () => {
    assert.throws(() => inventoryMessages('[1,2]', 'device/main//', 'te'), /Invalid JSON: invalid type: sequence/);
    assert.throws(() => inventoryMessages('{"a":', 'device/main//', 'te'), /Invalid JSON/);
  });
});
