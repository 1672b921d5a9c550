import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { TedgeError } from '../../../src/core/errors';
import { exitCodeOf } from '../../../src/cli/exit-codes';
import { type Invocation, parseInvocation } from '../../../src/cli/invocation';

describe('multi-call invocation', () => {
  const cases: Array<[string, string[], string, Invocation]> = [
    ['tedge as a script', ['/usr/bin/node', '/opt/tedge/dist/src/bin/tedge.js', 'config', 'list'], 'node', { kind: 'tedge', args: ['config', 'list'] }],
    ['a script named tedge-agent.js', ['/usr/bin/node', '/opt/dist/src/bin/tedge-agent.js', '--debug'], 'node', { kind: 'component', component: 'tedge-agent', args: ['--debug'] }],
    ['a single executable linked as tedge-mapper', ['/usr/bin/tedge', '/usr/bin/tedge', 'c8y'], '/usr/bin/tedge-mapper', { kind: 'component', component: 'tedge-mapper', args: ['c8y'] }],
    ['a single executable whose argv[1] keeps the link name', ['/usr/bin/tedge', 'tedge-mapper', 'c8y'], 'tedge-mapper', { kind: 'component', component: 'tedge-mapper', args: ['c8y'] }],
    ['tedge run tedge-mapper c8y', ['/usr/bin/tedge', '/usr/bin/tedge', 'run', 'tedge-mapper', 'c8y'], 'tedge', { kind: 'component', component: 'tedge-mapper', args: ['c8y'] }],
    ['tedge run all', ['/usr/bin/tedge', '/usr/bin/tedge', 'run', 'all', '--mappers', 'c8y'], 'tedge', { kind: 'run-all', args: ['--mappers', 'c8y'] }],
    ['tedge run all as a script', ['/usr/bin/node', '/opt/dist/src/bin/tedge.js', 'run', 'all'], 'node', { kind: 'run-all', args: [] }],
    ['tedge run of an unknown component is left to the CLI', ['/usr/bin/tedge', '/usr/bin/tedge', 'run', 'tedge-foo'], 'tedge', { kind: 'tedge', args: ['run', 'tedge-foo'] }],
  ];
  for (const [name, argv, argv0, expected] of cases) {
    it(name, () => assert.deepEqual(parseInvocation(argv, argv0), expected));
  }
});

describe('exit codes', () => {
  const cases: Array<[string, unknown, number]> = [
    ['--help / --version', new CommanderError(0, 'commander.helpDisplayed', ''), 0],
    ['a commander parse error', new CommanderError(1, 'commander.unknownOption', ''), 2],
    ['USAGE', new TedgeError('USAGE', ''), 2],
    ['CONFIG_UNKNOWN_KEY', new TedgeError('CONFIG_UNKNOWN_KEY', ''), 2],
    ['INVALID_TOPIC', new TedgeError('INVALID_TOPIC', ''), 2],
    ['CONFIG_INVALID_VALUE', new TedgeError('CONFIG_INVALID_VALUE', ''), 1],
    ['CONFIG_READ_ONLY', new TedgeError('CONFIG_READ_ONLY', ''), 1],
    ['MQTT_CONNECT', new TedgeError('MQTT_CONNECT', ''), 1],
    ['an unexpected error', new Error('bug'), 1],
  ];
  for (const [name, error, code] of cases) {
    it(`${name} → ${code}`, () => assert.equal(exitCodeOf(error), code));
  }
});
