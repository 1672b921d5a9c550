import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshHealthPid, watchdogSecOf } from '../../../src/runtime/watchdog';

describe('watchdogSecOf', () => {
  const rows: Array<[string, string, number | undefined]> = [
    ['in [Service]', '[Unit]\nDescription=a\n[Service]\nType=notify\nWatchdogSec=60\n', 60],
    ['spaces around =', '[Service]\nWatchdogSec = 30\n', 30],
    ['absent', '[Service]\nType=notify\n', undefined],
    ['in another section', '[Unit]\nWatchdogSec=60\n[Service]\n', undefined],
    ['not whole seconds (thin-edge reads a number)', '[Service]\nWatchdogSec=1min\n', undefined],
    ['zero: no watchdog', '[Service]\nWatchdogSec=0\n', undefined],
  ];
  for (const [name, text, sec] of rows) it(name, () => assert.equal(watchdogSecOf(text), sec));
});

describe('freshHealthPid', () => {
  const rows: Array<[string, string, number | undefined]> = [
    ['fresh unix time', '{"status":"up","pid":42,"time":1700000010}', 42],
    ['same second', '{"status":"up","pid":42,"time":1700000000}', 42],
    ['fresh RFC 3339', '{"status":"up","pid":42,"time":"2023-11-14T22:13:21Z"}', 42],
    ['stale', '{"status":"up","pid":42,"time":1699999999}', undefined],
    ['no time (a last will)', '{"status":"down","pid":42}', undefined],
    ['no pid', '{"status":"up","time":1700000010}', undefined],
    ['not JSON', 'up', undefined],
  ];
  for (const [name, payload, pid] of rows) it(name, () => assert.equal(freshHealthPid(payload, 1_700_000_000), pid));
});
