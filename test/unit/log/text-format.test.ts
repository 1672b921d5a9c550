import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine } from '../../../src/log/text-format';

const T = Date.UTC(2026, 11, 1, 14, 4, 18, 123);

describe('formatLogLine', () => {
  const rows: Array<[string, Record<string, unknown>, boolean, string]> = [
    ['message with its component', { level: 30, time: T, pid: 7, name: 'tedge-mapper-c8y', component: 'c8y-mapper', msg: 'connected to the cloud' }, true, '2026-12-01T14:04:18.123Z  INFO tedge-mapper-c8y c8y-mapper: connected to the cloud\n'],
    ['no timestamp under systemd', { level: 40, time: T, name: 'tedge-agent', msg: 'lost the connection' }, false, ' WARN tedge-agent: lost the connection\n'],
    ['fields as key=value, quoted when needed', { level: 50, time: T, name: 'tedge-agent', msg: 'failed', host: '127.0.0.1', port: 1883, reason: 'no route', tls: false }, false, 'ERROR tedge-agent: failed host=127.0.0.1 port=1883 reason="no route" tls=false\n'],
    ['an error shows its message, not its stack', { level: 50, name: 'a', msg: 'x', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at …' } }, false, 'ERROR a: x err="boom"\n'],
    ['objects as JSON', { level: 20, name: 'a', msg: 'plan', components: ['tedge-agent', 'tedge-mapper-c8y'] }, false, 'DEBUG a: plan components=["tedge-agent","tedge-mapper-c8y"]\n'],
    ['trace', { level: 10, name: 'a', msg: 't' }, false, 'TRACE a: t\n'],
    ['fatal', { level: 60, name: 'a', msg: 'f' }, false, 'FATAL a: f\n'],
    ['no message: the fields alone', { level: 30, name: 'a', delayMs: 5000 }, false, ' INFO a: delayMs=5000\n'],
  ];
  for (const [name, record, timestamps, line] of rows) it(name, () => assert.equal(formatLogLine(record, { timestamps }), line));
});
