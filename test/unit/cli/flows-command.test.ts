import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTedgeIn } from '../../helpers/cli-run';
import { BIN_DIR } from '../../helpers/daemon';

/** `tedge flows test` reading `[topic] payload` lines on its stdin, as a user pipes them. */
function testWithStdin(dir: string, args: readonly string[], input: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [join(BIN_DIR, 'tedge.js'), '--config-dir', dir, 'flows', 'test', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    proc.stdin.end(input);
  });
}

describe('tedge flows', () => {
  let dir: string;
  let flows: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-flows-cli-'));
    flows = join(dir, 'mappers', 'local', 'flows');
    mkdirSync(flows, { recursive: true });
    writeFileSync(join(flows, 'c8y.toml'), 'version = "1.0"\ndescription = "measurements to Cumulocity"\ntags = ["c8y"]\ninput.mqtt.topics = ["te/+/+/+/+/m/+"]\nsteps = [{ builtin = "into-c8y-measurements" }]\n');
    writeFileSync(join(flows, 'avg.toml'), 'input.mqtt.topics = ["sensor/+"]\nsteps = [{ script = "avg.js" }]\n');
    writeFileSync(join(flows, 'avg.js'), `let sum = 0, n = 0;
export function onMessage(m) { sum += Number(new TextDecoder().decode(m.payload)); n++; return null; }
export function onInterval() { return n === 0 ? null : { topic: 'sensor/avg', payload: String(sum / n) }; }`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('config-dir prints the flows directory of a mapper', async () => {
    assert.deepEqual(await runTedgeIn(dir, ['flows', 'config-dir']), { code: 0, out: `${flows}\n`, err: '' });
    assert.equal((await runTedgeIn(dir, ['flows', 'config-dir', '--mapper', 'c8y'])).out, `${join(dir, 'mappers', 'c8y', 'flows')}\n`);
    assert.equal((await runTedgeIn(dir, ['flows', 'config-dir', '--mapper', 'Bad!'])).code, 2, 'a usage error');
  });

  it("--profile: the flows of mappers/<mapper>.<profile>, as thin-edge's profiled mappers keep them", async () => {
    const profiled = join(dir, 'mappers', 'az.foo', 'flows');
    mkdirSync(profiled, { recursive: true });
    writeFileSync(join(profiled, 'up.toml'), 'input.mqtt.topics = ["in/+"]\nsteps = [{ builtin = "set-topic", config = { topic = "out/foo" } }]\n');
    try {
      assert.deepEqual(await runTedgeIn(dir, ['flows', 'config-dir', '--mapper', 'az', '--profile', 'foo']), { code: 0, out: `${profiled}\n`, err: '' });
      const list = await runTedgeIn(dir, ['flows', 'list', '--mapper', 'az', '--profile', 'foo']);
      assert.equal(list.code, 0, list.err);
      assert.match(list.out, /^Flow {8}: up \(unversioned\)\n[^]*File {8}: .*az\.foo\/flows\/up\.toml\n/);
      const run = await runTedgeIn(dir, ['flows', 'test', '--mapper', 'az', '--profile', 'foo', 'in/x', '1']);
      assert.deepEqual(run, { code: 0, out: '[out/foo] 1\n', err: '' });
      assert.equal((await runTedgeIn(dir, ['flows', 'config-dir', '--mapper', 'az', '--profile', '../x'])).code, 2, 'not a profile name: a usage error');
    } finally {
      rmSync(join(dir, 'mappers', 'az.foo'), { recursive: true, force: true });
    }
  });

  it('list shows each flow with its steps; --topic keeps the flows that take that topic', async () => {
    const all = await runTedgeIn(dir, ['flows', 'list']);
    assert.equal(all.code, 0, all.err);
    assert.equal(all.out, [
      'Flow        : avg (unversioned)',
      'Description : none',
      `File        : ${join(flows, 'avg.toml')}`,
      `Step 1      : ${join(flows, 'avg.js')}`,
      '',
      'Flow        : c8y (v1.0)',
      'Description : measurements to Cumulocity',
      `File        : ${join(flows, 'c8y.toml')}`,
      'Tags        : [c8y]',
      'Step 1      : builtin:into-c8y-measurements',
      '',
      '',
    ].join('\n'));
    const some = await runTedgeIn(dir, ['flows', 'list', '--topic', 'sensor/x']);
    assert.match(some.out, /^Flow {8}: avg /);
    assert.doesNotMatch(some.out, /c8y/);
  });

  it('test runs a sample given as TOPIC PAYLOAD and prints [topic] payload lines', async () => {
    const run = await runTedgeIn(dir, ['flows', 'test', 'te/device/main///m/environment', '{ "temperature": 29, "time": "2025-08-07T12:47:26.152Z" }']);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, '[c8y/measurement/measurements/create] {"type":"environment","time":"2025-08-07T12:47:26.152Z","temperature":{"temperature":{"value":29}}}\n');
    assert.equal((await runTedgeIn(dir, ['flows', 'test', 'only/topic'])).code, 2, 'a topic without payload is a usage error');
  });

  it('test reads [topic] payload lines on stdin; --flow picks one flow; --final-on-interval calls onInterval at the end', async () => {
    const run = await testWithStdin(dir, ['--flow', join(flows, 'avg.toml'), '--final-on-interval'], '[sensor/a] 1\n[sensor/b] 2\n\n[te/device/main///m/x] {"t":1}\n[sensor/c] 6\n');
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, '[sensor/avg] 3\n');
  });

  it('test --flow <script> runs one step alone on every topic', async () => {
    const run = await testWithStdin(dir, ['--flow', join(flows, 'avg.js'), '--final-on-interval'], '[any/topic] 4\n[other] 8\n');
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, '[sensor/avg] 6\n');
  });

  it('test --context seeds context.mapper, --processing-time fixes the time, --base64-input/--base64-output', async () => {
    const run = await runTedgeIn(dir, [
      'flows', 'test', '--flow', join(flows, 'c8y.toml'),
      '--context', '{"device/child//":{"@id":"child-xid","@type":"child-device"}}',
      '--processing-time', '2025-08-07T12:00:00Z',
      '--base64-input', 'te/device/child///m/env', Buffer.from('{"t":1}').toString('base64'),
    ]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, '[c8y/measurement/measurements/create] {"externalSource":{"externalId":"child-xid","type":"c8y_Serial"},"type":"env","time":"2025-08-07T12:00:00Z","t":{"t":{"value":1}}}\n');
    const b64 = await runTedgeIn(dir, ['flows', 'test', '--base64-output', '--processing-time', '2025-08-07T12:00:00Z', 'te/device/main///m/', '{"t":1}']);
    assert.equal(Buffer.from(b64.out.replace(/^\[[^\]]*\] /, ''), 'base64').toString(), '{"type":"ThinEdgeMeasurement","time":"2025-08-07T12:00:00Z","t":{"t":{"value":1}}}');
  });

  it('a broken flow makes list fail, naming it', async () => {
    const broken = join(flows, 'broken.toml');
    writeFileSync(broken, 'input.mqtt.topics = 1\n');
    try {
      const run = await runTedgeIn(dir, ['flows', 'list']);
      assert.equal(run.code === 0, false);
      assert.match(run.err, /broken\.toml cannot be loaded: .*input\.mqtt\[0\]\.topics must be a list/);
    } finally {
      rmSync(broken);
    }
  });
});
