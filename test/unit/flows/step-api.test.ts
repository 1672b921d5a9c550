import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { EngineUnderTest } from './engine-support';

let t: EngineUnderTest;
afterEach(() => t.close());

describe('step API (thin-edge 2.x)', () => {
  it('onStartup, onMessage and onInterval; null, one or many messages; sync or async; config; time', async () => {
    t = new EngineUnderTest().write({
      'count.toml': 'input.mqtt.topics = ["in"]\nconfig = { prefix = "n" }\n[[steps]]\nscript = "count.mjs"\ninterval = "5s"\nconfig = { every = 2 }\n',
      'count.mjs': `
let seen = 0;
export function onStartup(time, context) { return { topic: 'started', payload: time.toISOString() + ' ' + context.config.prefix }; }
export async function onMessage(message, context) {
  seen++;
  const text = new TextDecoder().decode(message.payload);
  if (text === 'skip') return null;
  if (text === 'two') return [{ topic: 'a', payload: 'x' }, { topic: 'b', payload: new TextEncoder().encode('y') }];
  await null;
  return { topic: 'echo', payload: text + '@' + message.time.toISOString() + ' every ' + context.config.every };
}
export function onInterval(time, context) { return { topic: 'seen', payload: String(seen) }; }`,
    });
    await t.engine.sync();
    assert.deepEqual(t.take(), ['[started] 2025-01-01T00:00:00.000Z n']);
    await t.send('in', 'one');
    await t.send('in', 'skip');
    await t.send('in', 'two');
    assert.deepEqual(t.take(), ['[echo] one@2025-01-01T00:00:00.000Z every 2', '[a] x', '[b] y']);
    t.now += 1000;
    await t.engine.tick();
    assert.deepEqual(t.take(), [], 'not due before its interval');
    t.now += 5000;
    await t.engine.tick();
    assert.deepEqual(t.take(), ['[seen] 3']);
    await t.engine.tick(true);
    assert.deepEqual(t.take(), ['[seen] 3'], 'final-on-interval calls it whatever the time');
  });

  it('context.mapper is shared by the flows of a mapper, context.flow by the steps of a flow', async () => {
    t = new EngineUnderTest().write({
      'a.toml': 'input.mqtt.topics = ["set"]\nsteps = [{ script = "set.js" }, { script = "get.js" }]\n',
      'set.js': `export function onMessage(m, c) { c.mapper.set('unit', { t: 'C' }); c.flow.set('n', 42); return m; }`,
      'get.js': `export function onMessage(m, c) { return { topic: 'flow', payload: JSON.stringify([c.flow.get('n'), c.flow.keys()]) }; }`,
      'b.toml': 'input.mqtt.topics = ["get"]\nsteps = [{ script = "read.js" }]\n',
      'read.js': `export function onMessage(m, c) { return { topic: 'mapper', payload: JSON.stringify([c.mapper.get('unit'), c.flow.get('n'), c.mapper.get('nothing')]) }; }`,
    });
    await t.engine.sync();
    await t.send('set', '');
    await t.send('get', '');
    assert.deepEqual(t.take(), ['[flow] [42,["n"]]', '[mapper] [{"t":"C"},null,null]']);
  });

  it('hot reload: a changed script runs and keeps context.script; a broken file is reported and the previous version keeps running', async () => {
    t = new EngineUnderTest().write({
      'f.toml': 'input.mqtt.topics = ["in"]\nsteps = [{ script = "f.js" }]\n',
      'f.js': `export function onMessage(m, c) { const n = (c.script.get('n') ?? 0) + 1; c.script.set('n', n); return { topic: 'v1', payload: String(n) }; }`,
    });
    await t.engine.sync();
    await t.send('in', '');
    writeFileSync(join(t.dir, 'f.js'), `export function onMessage(m, c) { const n = (c.script.get('n') ?? 0) + 1; c.script.set('n', n); return { topic: 'v2', payload: String(n) }; }`);
    await t.engine.sync();
    await t.send('in', '');
    assert.deepEqual(t.take(), ['[v1] 1', '[v2] 2']);
    writeFileSync(join(t.dir, 'f.js'), 'export function onMessage(m) { return {');
    await t.engine.sync();
    writeFileSync(join(t.dir, 'f.toml'), 'input.mqtt.topics = [');
    await t.engine.sync();
    await t.engine.sync(); // another file's change: the same error is not reported twice
    await t.send('in', '');
    const lines = t.take();
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0] ?? '', /^\[te\/errors\] Flow .*f\.toml cannot be loaded \(its previous version keeps running\): .*Unexpected token/);
    assert.match(lines[1] ?? '', /^\[te\/errors\] Flow .*f\.toml cannot be loaded \(its previous version keeps running\): invalid TOML/);
    assert.equal(lines[2], '[v2] 3');
    assert.ok(t.logs.some((l) => l.includes('cannot be loaded')), 'and in the log');
    rmSync(join(t.dir, 'f.toml'));
    await t.engine.sync();
    await t.send('in', '');
    assert.deepEqual(t.take(), [], 'a removed flow stops');
  });

  it('params.toml over its template; ${mapper.*}; builtin and script steps in one chain', async () => {
    t = new EngineUnderTest().write({
      'p/flow.toml': 'input.mqtt.topics = ["in/${params.child}"]\n[[steps]]\nscript = "main.js"\nconfig = { factor = "${params.factor}", url = "${mapper.url}" }\n[[steps]]\nbuiltin = "set-topic"\nconfig.topic = "out/${params.child}"\n',
      'p/params.toml.template': 'child = "c0"\nfactor = 1\n',
      'p/params.toml': 'factor = 10\n',
      'p/main.js': 'export function onMessage(m, c) { return { topic: "x", payload: String(Number(new TextDecoder().decode(m.payload)) * c.config.factor) + " " + c.config.url }; }',
    });
    await t.engine.sync();
    await t.send('in/c0', '4');
    assert.deepEqual(t.take(), ['[out/c0] 40 example.net']);
  });

  it('outputs and errors to files, output topic override, accept_topics, statistics', async () => {
    t = new EngineUnderTest();
    t.write({
      'file.toml': `input.mqtt.topics = ["f"]\nsteps = [{ script = "s.js" }]\n[output.file]\npath = "${join(t.dir, 'out.log')}"\n[errors.file]\npath = "${join(t.dir, 'err.log')}"\n`,
      'fixed.toml': 'input.mqtt.topics = ["fixed"]\nsteps = [{ script = "s.js" }]\noutput.mqtt.topic = "somewhere"\n',
      'accept.toml': 'input.mqtt.topics = ["acc"]\nsteps = [{ script = "s.js" }]\noutput.mqtt.accept_topics = ["c8y/#"]\n',
      's.js': 'export function onMessage(m) { const p = new TextDecoder().decode(m.payload); if (p === "bad") throw new Error("bad input"); return { topic: p, payload: "v", mqtt: { qos: 0, retain: true } }; }',
    });
    await t.engine.sync();
    await t.send('f', 'x/y');
    await t.send('f', 'bad');
    await t.send('fixed', 'any');
    await t.send('acc', 'c8y/ok');
    await t.send('acc', 'elsewhere');
    assert.equal(readFileSync(join(t.dir, 'out.log'), 'utf8'), '[x/y] v\n');
    assert.match(readFileSync(join(t.dir, 'err.log'), 'utf8'), /^Flow 'file', step 's\.js', on a message of topic 'f': bad input\n$/);
    const lines = t.take();
    assert.deepEqual(lines.slice(0, 2), ['[somewhere] v', '[c8y/ok] v']);
    assert.match(lines[2] ?? '', /^\[te\/errors\] Flow 'accept', step 'output', .*'elsewhere' is not accepted/);
    assert.deepEqual(t.engine.statsMessages().map((m) => `[${m.topic}] ${new TextDecoder().decode(m.payload)}`), [
      '[te/device/main/service/tedge-mapper-local/status/metrics/accept.toml] {"type":"flow","input":2,"output":1,"error":1}',
      '[te/device/main/service/tedge-mapper-local/status/metrics/file.toml] {"type":"flow","input":2,"output":1,"error":1}',
      '[te/device/main/service/tedge-mapper-local/status/metrics/fixed.toml] {"type":"flow","input":1,"output":1,"error":0}',
    ]);
  });
});
