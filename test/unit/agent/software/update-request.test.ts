import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../../../src/core/json';
import { assignPlugins, parseUpdateList, resolvePluginType } from '../../../../src/agent/operations/software/update-request';

describe('software_update request', () => {
  it('groups modules by type in first-seen order, defaults and empty fields normalised', () => {
    const payload: JsonObject = {
      status: 'executing',
      updateList: [
        { type: 'apt', modules: [{ name: 'collectd', version: '5.12', url: 'https://x/c.deb', action: 'install' }, { name: 'x', action: 'remove' }] },
        { modules: [{ name: 'y', version: '', url: '', action: 'install' }] },
        { type: 'apt', modules: [{ name: 'z', action: 'install' }, { name: 'no-action' }] },
      ],
    };
    assert.deepEqual(parseUpdateList(payload), [
      {
        type: 'apt',
        modules: [
          { action: 'install', name: 'collectd', version: '5.12', url: 'https://x/c.deb' },
          { action: 'remove', name: 'x' },
          { action: 'install', name: 'z' },
        ],
      },
      { type: 'default', modules: [{ action: 'install', name: 'y' }] },
    ]);
  });

  const bad: [string, JsonObject, RegExp][] = [
    ['no updateList', {}, /updateList must be an array/],
    ['updateList not an array', { updateList: 'apt' }, /updateList must be an array/],
    ['entry not an object', { updateList: [1] }, /updateList\[0\] must be an object/],
    ['modules missing', { updateList: [{ type: 'apt' }] }, /updateList\[0\]\.modules must be an array/],
    ['type not a string', { updateList: [{ type: 3, modules: [] }] }, /type must be a string/],
    ['module without name', { updateList: [{ type: 'apt', modules: [{ action: 'install' }] }] }, /modules\[0\]\.name must be a non-empty string/],
    ['unknown action', { updateList: [{ type: 'apt', modules: [{ name: 'a', action: 'upgrade' }] }] }, /action must be "install" or "remove"/],
    ['version not a string', { updateList: [{ type: 'apt', modules: [{ name: 'a', action: 'install', version: 1 }] }] }, /version must be a string/],
    ['a tab would forge an update-list field', { updateList: [{ type: 'apt', modules: [{ name: 'a\tb', action: 'install' }] }] }, /control characters/],
    ['a newline would forge an update-list line', { updateList: [{ type: 'apt', modules: [{ name: 'a', version: '1\nremove\tlibc6', action: 'install' }] }] }, /control characters/],
    ['a leading dash would read as an option', { updateList: [{ type: 'apt', modules: [{ name: '--file=/etc/shadow', action: 'install' }] }] }, /must not start with '-'/],
  ];
  for (const [what, payload, error] of bad) it(`refuses: ${what}`, () => assert.throws(() => parseUpdateList(payload), error));

  const types: [string, string, string[], string | undefined, string | undefined][] = [
    ['an explicit type present', 'apt', ['apt', 'docker'], undefined, 'apt'],
    ['an explicit type absent', 'snap', ['apt', 'docker'], 'apt', undefined],
    ['default: the configured plugin', 'default', ['apt', 'docker'], 'docker', 'docker'],
    ['default: the configured plugin missing', 'default', ['apt'], 'docker', undefined],
    ['default: the only plugin', 'default', ['apt'], undefined, 'apt'],
    ['default: several plugins, none configured', 'default', ['apt', 'docker'], undefined, undefined],
    ['default: empty config is unset', 'default', ['apt'], '', 'apt'],
  ];
  for (const [what, requested, plugins, configured, expected] of types) it(`plugin of ${what}`, () => assert.equal(resolvePluginType(requested, plugins, configured), expected));

  it('merges default and explicit groups of the same plugin; unknown types apart', () => {
    const { planned, unknown } = assignPlugins(
      [
        { type: 'default', modules: [{ action: 'install', name: 'a' }] },
        { type: 'snap', modules: [{ action: 'install', name: 's' }] },
        { type: 'apt', modules: [{ action: 'remove', name: 'b' }] },
      ],
      ['apt'],
      undefined,
    );
    assert.deepEqual(planned, [{ type: 'apt', modules: [{ action: 'install', name: 'a' }, { action: 'remove', name: 'b' }] }]);
    assert.deepEqual(unknown, [{ type: 'snap', modules: [{ action: 'install', name: 's' }] }]);
  });
});
