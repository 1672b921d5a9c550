import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../../../src/core/json';
import {
  SELF_UPDATE_FIELD,
  readSelfUpdateRecord,
  selfModules,
  selfUpdateDecision,
  selfUpdateRecord,
  upstreamVersion,
  withoutSelfModules,
} from '../../../../src/agent/operations/software/self-update';
import { parseUpdateList } from '../../../../src/agent/operations/software/update-request';

describe('software_update self-update', () => {
  it('finds the installs of the agent package, not its removal nor other packages', () => {
    const groups = parseUpdateList({
      updateList: [
        { type: 'apt', modules: [{ name: 'collectd', action: 'install' }, { name: 'tedge', version: '1.2.0-1', action: 'install' }] },
        { type: 'other', modules: [{ name: 'tedge', action: 'remove' }, { name: 'tedge-mapper', action: 'install' }] },
      ],
    });
    assert.deepEqual(selfModules(groups), [{ name: 'tedge', version: '1.2.0-1' }]);
    assert.deepEqual(withoutSelfModules(groups), [
      { type: 'apt', modules: [{ name: 'collectd', action: 'install' }] },
      { type: 'other', modules: [{ name: 'tedge', action: 'remove' }, { name: 'tedge-mapper', action: 'install' }] },
    ]);
    assert.equal(selfUpdateRecord('1.0.0', []), undefined);
  });

  it('reads back what it checkpointed; anything else is no record', () => {
    const field = selfUpdateRecord('1.0.0', [{ name: 'tedge' }, { name: 'tedge', version: '2.0' }]);
    assert.ok(field !== undefined);
    const payload: JsonObject = { status: 'executing', [SELF_UPDATE_FIELD]: field };
    assert.deepEqual(readSelfUpdateRecord(payload), { before: '1.0.0', modules: [{ name: 'tedge' }, { name: 'tedge', version: '2.0' }] });
    const bad: JsonObject[] = [{}, { [SELF_UPDATE_FIELD]: 'x' }, { [SELF_UPDATE_FIELD]: {} }, { [SELF_UPDATE_FIELD]: { before: 1, modules: [] } }];
    bad.push({ [SELF_UPDATE_FIELD]: { before: '1', modules: [] } }, { [SELF_UPDATE_FIELD]: { before: '1', modules: [{ version: '2' }] } });
    for (const p of bad) assert.equal(readSelfUpdateRecord(p), undefined, JSON.stringify(p));
  });

  it('strips the Debian epoch and revision only', () => {
    const table: [string, string][] = [
      ['1.2.0', '1.2.0'],
      ['1.2.0-1', '1.2.0'],
      ['2:1.2.0-1ubuntu3', '1.2.0'],
      ['1.2.0~rc1-2', '1.2.0~rc1'],
      ['1.2.0-rc.1-1', '1.2.0-rc.1'],
    ];
    for (const [input, expected] of table) assert.equal(upstreamVersion(input), expected, input);
  });

  it('decides from the requested version and the versions before and after the restart', () => {
    const table: { requested?: string; before: string; now: string; ok: boolean; mentions?: string[] }[] = [
      { before: '1.0.0', now: '1.1.0', ok: true },
      { before: '1.0.0', now: '1.0.0', ok: false, mentions: ['still runs version 1.0.0'] },
      { requested: '1.1.0', before: '1.0.0', now: '1.1.0', ok: true },
      { requested: '1.1.0-1', before: '1.0.0', now: '1.1.0', ok: true },
      { requested: '1:1.1.0-3', before: '1.0.0', now: '1.1.0', ok: true },
      // A reinstall of the running version: asked for and running, so the update did what it was asked.
      { requested: '1.0.0', before: '1.0.0', now: '1.0.0', ok: true },
      { requested: '1.1.0', before: '1.0.0', now: '1.0.0', ok: false, mentions: ['1.1.0 was requested', 'runs 1.0.0'] },
      { requested: '1.1.0', before: '1.0.0', now: '1.2.0', ok: false, mentions: ['1.1.0 was requested', 'runs 1.2.0', 'was 1.0.0'] },
      { before: '1.0.0', now: 'unknown', ok: false, mentions: ['cannot tell its own version'] },
    ];
    for (const row of table) {
      const decision = selfUpdateDecision({ before: row.before, modules: [{ name: 'tedge', ...(row.requested !== undefined && { version: row.requested }) }] }, row.now);
      assert.equal(decision.status, row.ok ? 'successful' : 'failed', JSON.stringify(row));
      if (decision.status === 'failed') for (const text of row.mentions ?? []) assert.ok(decision.reason.includes(text), `${decision.reason} lacks ${text}`);
    }
  });
});
