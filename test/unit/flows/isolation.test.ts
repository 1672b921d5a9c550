import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EngineUnderTest } from './engine-support';

/** A flow whose step misbehaves on demand, beside an innocent flow: the mapper and the other flow go on. */
const HOSTILE = `
export function onMessage(message, context) {
  const what = new TextDecoder().decode(message.payload);
  if (what === 'loop') while (true) {}
  if (what === 'async-loop') return Promise.resolve().then(() => { while (true) {} });
  if (what === 'bomb') { const keep = []; while (true) keep.push(new Array(1000000).fill(what)); }
  if (what === 'require') return { topic: 'out', payload: String(require('fs').readFileSync('/etc/passwd')) };
  if (what === 'exit') { process.exit(3); }
  if (what === 'escape') { const p = this === undefined ? globalThis.constructor.constructor('return process')() : null; return { topic: 'out', payload: String(p && p.pid) }; }
  if (what === 'payload-escape') { const F = message.payload.constructor.constructor; return { topic: 'out', payload: String(F('return typeof process')()) }; }
  if (what === 'pollute') { Object.prototype.polluted = 'yes'; Array.prototype.map = () => 'hijacked'; JSON.stringify = () => 'hijacked'; return null; }
  if (what === 'throw') throw new Error('not today');
  if (what === 'recurse') { const f = (n) => f(n + 1) + 1; return { topic: 'out', payload: String(f(0)) }; }
  return { topic: 'out/hostile', payload: 'alive ' + what };
}`;
const INNOCENT = `
export function onMessage(message) {
  return { topic: 'out/innocent', payload: JSON.stringify({ polluted: ({}).polluted ?? null, map: [1, 2].map((x) => x * 2) }) };
}`;

describe('isolation of user steps', () => {
  let t: EngineUnderTest;

  before(async () => {
    t = new EngineUnderTest().write({
      'hostile.toml': 'input.mqtt.topics = ["in/hostile"]\nsteps = [{ script = "hostile.js" }]\n',
      'hostile.js': HOSTILE,
      'innocent.toml': 'input.mqtt.topics = ["in/#"]\nsteps = [{ script = "innocent.js" }]\n',
      'innocent.js': INNOCENT,
    });
    await t.engine.sync();
  });
  after(() => t.close());

  async function attack(what: string): Promise<string[]> {
    t.take();
    await t.send('in/hostile', what);
    await t.send('in/hostile', 'ok');
    return t.take();
  }

  const INNOCENT_OK = '[out/innocent] {"polluted":null,"map":[2,4]}';

  for (const [what, error] of [
    ['loop', /step 'hostile\.js', on a message of topic 'in\/hostile': the step took more than 200 ms: cut/],
    ['async-loop', /the step took more than 200 ms: cut/],
    ['bomb', /step 'flow', on a message of topic 'in\/hostile': a step exhausted the memory limit of its flow/],
    ['require', /step 'hostile\.js'.*require is not defined/],
    ['exit', /step 'hostile\.js'.*process is not defined/],
    ['escape', /Code generation from strings disallowed for this context/],
    ['payload-escape', /Code generation from strings disallowed for this context/],
    ['throw', /step 'hostile\.js'.*: not today/],
    ['recurse', /step 'hostile\.js'.*Maximum call stack size exceeded/],
  ] as const) {
    it(`${what}: reported on te/errors; the flow goes on with the next message, the other flow is untouched`, async () => {
      const lines = await attack(what);
      const errors = lines.filter((l) => l.startsWith('[te/errors] '));
      assert.equal(errors.length, 1, lines.join('\n'));
      assert.match(errors[0] ?? '', error);
      assert.ok(lines.includes('[out/hostile] alive ok'), lines.join('\n'));
      assert.deepEqual(lines.filter((l) => l.startsWith('[out/innocent]')), [INNOCENT_OK, INNOCENT_OK]);
    });
  }

  it('prototype pollution stays in the polluting step: other flows, and the mapper, see clean intrinsics', async () => {
    const lines = await attack('pollute');
    assert.deepEqual(lines.filter((l) => l.startsWith('[out/innocent]')), [INNOCENT_OK, INNOCENT_OK]);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.deepEqual([1, 2].map((x) => x * 2), [2, 4]);
    assert.equal(JSON.stringify({ a: 1 }), '{"a":1}');
  });
});

/**
 * The worker reads what a step returned after the call, outside its time limit: it must not run step code
 * then. This step replaces the iterator of its realm's arrays, the typed arrays' getters and Date's methods
 * by endless loops, then returns two messages; reading them through any of those would hang the worker
 * until its watchdog ends it (what the runner inside the realm reads is under the call's time limit).
 */
const TRAP = `
export function onMessage(message) {
  const one = new Uint8Array([111, 110, 101]);
  const loop = () => { while (true) {} };
  const typed = Object.getPrototypeOf(Uint8Array.prototype);
  for (const name of ['length', 'buffer', 'byteOffset', 'byteLength']) Object.defineProperty(typed, name, { get: loop });
  Array.prototype[Symbol.iterator] = loop;
  Date.prototype.getTime = loop;
  Date.prototype.valueOf = loop;
  return [
    { topic: 'out/trap/1', payload: one, time: new Date(5) },
    { topic: 'out/trap/2', payload: 'two', mqtt: { qos: 0, retain: true } },
  ];
}`;

describe('a step that booby-traps its own realm', () => {
  it('cannot make the worker run its code: outputs read by index, bytes and times through internal slots', async () => {
    const t = new EngineUnderTest().write({ 'trap.toml': 'input.mqtt.topics = ["in/trap"]\nsteps = [{ script = "trap.js" }]\n', 'trap.js': TRAP });
    try {
      await t.engine.sync();
      const published: string[] = [];
      const started = Date.now();
      await t.send('in/trap', 'x');
      published.push(...t.take());
      assert.deepEqual(published, ['[out/trap/1] one', '[out/trap/2] two'], t.logs.join('\n'));
      assert.ok(Date.now() - started < 1000, 'answered at once: no watchdog, no restart');
      assert.ok(!t.logs.some((l) => l.includes('restarted')), t.logs.join('\n'));
    } finally {
      await t.close();
    }
  });
});

describe('the time limit of a step', () => {
  it('is per call, not per batch: slow messages under the limit pass in one batch, the one over it is cut alone', async () => {
    const SLOW = `export function onMessage(message) {
  const text = new TextDecoder().decode(message.payload);
  const until = Date.now() + (text === 'loop' ? 1e9 : Number(text));
  while (Date.now() < until) {}
  return { topic: 'out/slow', payload: text };
}`;
    const t = new EngineUnderTest().write({ 'slow.toml': 'input.mqtt.topics = ["in/slow"]\nsteps = [{ script = "slow.js" }]\n', 'slow.js': SLOW });
    try {
      await t.engine.sync();
      // Sent at once: the first two go alone (two requests in flight), the rest as one batch of 4 × 120 ms and a loop beside a 200 ms limit.
      await Promise.all(['0', '0', '120', '120', '120', 'loop', '120'].map((p) => t.send('in/slow', p)));
      const lines = t.take();
      assert.deepEqual(lines.filter((l) => l.startsWith('[out/slow]')), ['0', '0', '120', '120', '120', '120'].map((p) => `[out/slow] ${p}`), lines.join('\n'));
      const errors = lines.filter((l) => l.startsWith('[te/errors]'));
      assert.equal(errors.length, 1, lines.join('\n'));
      assert.match(errors[0] ?? '', /the step took more than 200 ms: cut/);
    } finally {
      await t.close();
    }
  });
});
