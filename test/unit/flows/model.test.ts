import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToml } from '../../../src/config/toml';
import { flowName, parseFlow } from '../../../src/flows/model';
import { mergeParams, substituteConfig, substituteText } from '../../../src/flows/params';

const NO_SUBS = { params: {}, mapper: {} };

function flow(toml: string, subs = NO_SUBS) {
  return parseFlow(parseToml(toml, 'f.toml'), '/flows/f.toml', 'f', subs, 'te/errors');
}

describe('flow names (thin-edge derive_flow_name)', () => {
  for (const [path, name] of [
    ['/flows/hello.toml', 'hello'],
    ['/flows/hello/flow.toml', 'hello'],
    ['/flows/hello/world.toml', 'hello/world'],
    ['/flows/hello/world/flow.toml', 'hello/world'],
    ['/flows/.toml', undefined],
    ['/flows/hello/params.toml', undefined],
    ['/flows/hello/world.js', undefined],
    ['/unrelated/flows/hello.toml', undefined],
    ['/flows/flow.toml', 'flow'],
  ] as const) {
    it(`${path} → ${String(name)}`, () => assert.equal(flowName('/flows', path), name));
  }
});

describe('parseFlow', () => {
  it('reads the documented example: inputs, flow config as step defaults, steps with intervals', () => {
    const f = flow(`input.mqtt.topics = ["te/+/+/+/+/m/+"]
config = { format = "rfc3339" }
steps = [
    { builtin = "add-timestamp" },
    { script = "drop_stragglers.js", config = { max_delay = 60 }, interval = "60s" },
]`);
    assert.deepEqual(f.inputs, [{ kind: 'mqtt', topics: ['te/+/+/+/+/m/+'] }]);
    assert.deepEqual(f.steps, [
      { kind: 'builtin', name: 'add-timestamp', config: { format: 'rfc3339' }, intervalMs: 1000 },
      { kind: 'script', path: '/flows/drop_stragglers.js', config: { format: 'rfc3339', max_delay: 60 }, intervalMs: 60_000 },
    ]);
    assert.deepEqual(f.output, { kind: 'mqtt' });
    assert.deepEqual(f.errors, { kind: 'mqtt', topic: 'te/errors' });
  });

  it('takes several connectors of each kind, with file and process topics defaulting to the path and command', () => {
    const f = flow(`[[input.mqtt]]
topics = ["a/+"]
[[input.mqtt]]
topics = ["b/#"]
[[input.file]]
path = "app.log"
[[input.process]]
command = "./read-sensor.sh"
topic = "sensor/readings"
interval = "30s"`);
    assert.deepEqual(f.inputs, [
      { kind: 'mqtt', topics: ['a/+'] },
      { kind: 'mqtt', topics: ['b/#'] },
      { kind: 'file', path: '/flows/app.log', topic: 'app.log' },
      { kind: 'process', command: './read-sensor.sh', topic: 'sensor/readings', intervalMs: 30_000 },
    ]);
  });

  it('substitutes ${params.*} typed in configs and as text in topics and intervals', () => {
    const subs = { params: { debug: false, time: { format: 'unix' }, child: 'c1', hourly: '3600s' }, mapper: { device: { id: 'dev-1' } } };
    const f = flow(`input.mqtt.topics = ["te/device/\${params.child}///m/+"]
[config]
device = "\${mapper.device.id}"
[[steps]]
script = "main.js"
config = { debug = "\${params.debug}", format = "\${params.time.format}", label = "id-\${mapper.device.id}" }
interval = "\${params.hourly}"`, subs);
    assert.deepEqual(f.inputs, [{ kind: 'mqtt', topics: ['te/device/c1///m/+'] }]);
    assert.deepEqual(f.steps[0], { kind: 'script', path: '/flows/main.js', config: { device: 'dev-1', debug: false, format: 'unix', label: 'id-dev-1' }, intervalMs: 3_600_000 });
  });

  it('output and errors to files or other topics; accept_topics', () => {
    const f = flow(`input.mqtt.topics = ["x"]
[output.mqtt]
accept_topics = "c8y/#"
[errors.file]
path = "/var/run/tedge/flows.log"`);
    assert.deepEqual(f.output, { kind: 'mqtt', acceptTopics: ['c8y/#'] });
    assert.deepEqual(f.errors, { kind: 'file', path: '/var/run/tedge/flows.log' });
  });

  for (const [what, toml, error] of [
    ['no input', 'steps = []', /must define at least one input/],
    ['a bad filter', 'input.mqtt.topics = ["a/#/b"]', /Not a valid MQTT topic filter: a\/#\/b/],
    ['a loop', 'input.mqtt.topics = ["a/#"]\noutput.mqtt.topic = "a/b"', /infinite loop: the output topic 'a\/b' matches input filter 'a\/#'/],
    ['a file loop', 'input.file.path = "/x.log"\noutput.file.path = "/x.log"', /infinite loop: the output file '\/x\.log' is the same as the input file/],
    ['a step without kind', 'input.mqtt.topics = ["a"]\nsteps = [{ config = {} }]', /steps\[0\]: a step needs 'builtin' or 'script'/],
    ['a script of another language', 'input.mqtt.topics = ["a"]\nsteps = [{ script = "x.py" }]', /a \.js, \.mjs or \.ts file/],
    ['a bad interval', 'input.mqtt.topics = ["a"]\nsteps = [{ builtin = "x", interval = "soon" }]', /not a valid interval 'soon'/],
    ['a missing parameter', 'input.mqtt.topics = ["\${params.nope}"]', /no value for \$\{params\.nope\}/],
  ] as const) {
    it(`refuses ${what}, naming the file`, () => assert.throws(() => flow(toml), (e: Error) => /^\/flows\/f\.toml: /.test(e.message) && error.test(e.message)));
  }
});

describe('params', () => {
  it('params.toml over params.toml.template, table by table', () => {
    assert.deepEqual(mergeParams({ a: 1, t: { x: 1, y: 2 } }, { t: { y: 3 }, b: true }), { a: 1, t: { x: 1, y: 3 }, b: true });
  });
  it('several parameters in one string; a whole-value parameter keeps its type', () => {
    const subs = { params: { a: 'x', n: 3, list: [1, 2] }, mapper: {} };
    assert.equal(substituteText('${params.a}/${params.n}', subs, 'w'), 'x/3');
    assert.deepEqual(substituteConfig({ l: '${params.list}', s: 'n=${params.n}' }, subs, 'w'), { l: [1, 2], s: 'n=3' });
  });
});
