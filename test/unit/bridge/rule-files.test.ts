import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToml } from '../../../src/config/toml';
import { type TemplateLookup, parseBridgeRuleFile } from '../../../src/bridge/rule-files';

const values: Record<string, string | boolean> = { 'mapper.bridge.topic_prefix': 'v1/devices/me', 'mapper.on': true, 'mapper.off': false, 'tedge.c8y.bridge.topic_prefix': 'c8y', 'connection.auth_method': 'certificate' };
const lookup: TemplateLookup = (ns, key) => values[`${ns}.${key}`];
const parse = (text: string) => parseBridgeRuleFile(parseToml(text, 'r.toml'), 'r.toml', lookup);

describe("bridge rule files in thin-edge's format", () => {
  const cases: Array<{ name: string; text: string; rules: Array<[string, string, string, string]> }> = [
    { name: 'file prefixes, templates expanded', text: 'local_prefix = "tb/"\nremote_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "telemetry"\ndirection = "outbound"\n', rules: [['telemetry', 'outbound', 'tb/', 'v1/devices/me/']] },
    { name: "a rule's prefix wins over the file's", text: 'local_prefix = "a/"\n[[rule]]\ntopic = "x/#"\ndirection = "inbound"\nlocal_prefix = "${tedge.c8y.bridge.topic_prefix}/"\n', rules: [['x/#', 'inbound', 'c8y/', '']] },
    { name: 'if on rules: flags, negation, auth method', text: '[[rule]]\ntopic = "a"\ndirection = "bidirectional"\nif = "${mapper.on}"\n[[rule]]\ntopic = "b"\ndirection = "outbound"\nif = "!${mapper.on}"\n[[rule]]\ntopic = "c"\ndirection = "outbound"\nif = "${connection.auth_method} == \'certificate\'"\n', rules: [['a', 'bidirectional', '', ''], ['c', 'outbound', '', '']] },
    { name: 'a file whose if is false has no rules', text: 'if = "${mapper.off}"\n[[rule]]\ntopic = "a"\ndirection = "outbound"\n', rules: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(parse(c.text).map((r) => [r.topic, r.direction, r.localPrefix, r.remotePrefix]), c.rules);
      assert.ok(parse(c.text).every((r) => r.qos === 1));
    });
  }

  const errors: Array<[string, RegExp]> = [
    ['[[rule]]\ntopic = "a"\ndirection = "up"\n', /direction must be one of/],
    ['[[rule]]\ndirection = "outbound"\n', /topic is missing/],
    ['[[rule]]\ntopic = "${mapper.nope}"\ndirection = "outbound"\n', /\$\{mapper\.nope\} is not set/],
    ['prefix = "a"\n', /unknown field\(s\) prefix/],
    ['[[rule]]\ntopic = "a"\ndirection = "outbound"\nqos = 2\n', /unknown field\(s\) qos in rule\[0\]/],
    ['[[template_rule]]\nfor = ["a"]\ntopic = "${@for}"\ndirection = "outbound"\n', /template_rule.*not supported/],
  ];
  for (const [text, message] of errors) it(`refuses ${JSON.stringify(text.split('\n')[0])}… with ${message}`, () => assert.throws(() => parse(text), message));
});
