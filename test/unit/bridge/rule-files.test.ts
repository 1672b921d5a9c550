import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToml } from '../../../src/config/toml';
import { type TemplateLookup, type TemplateValue, parseBridgeRuleFile } from '../../../src/bridge/rule-files';

const values: Record<string, TemplateValue> = {
  'mapper.bridge.topic_prefix': 'v1/devices/me',
  'mapper.on': true,
  'mapper.off': false,
  'mapper.topics': ['attributes', 'telemetry'],
  'mapper.none': [],
  'tedge.c8y.bridge.topic_prefix': 'c8y',
  'tedge.c8y.smartrest.templates': ['tpl-a', 'tpl-b'],
  'tedge.c8y.proxy.cert_path': 'x, y',
  'connection.auth_method': 'certificate',
};
const lookup: TemplateLookup = (ns, key) => values[`${ns}.${key}`];
const parse = (text: string) => parseBridgeRuleFile(parseToml(text, 'r.toml'), 'r.toml', lookup);

describe("bridge rule files in thin-edge's format", () => {
  const cases: Array<{ name: string; text: string; rules: Array<[string, string, string, string]> }> = [
    { name: 'file prefixes, templates expanded', text: 'local_prefix = "tb/"\nremote_prefix = "${mapper.bridge.topic_prefix}/"\n[[rule]]\ntopic = "telemetry"\ndirection = "outbound"\n', rules: [['telemetry', 'outbound', 'tb/', 'v1/devices/me/']] },
    { name: "a rule's prefix wins over the file's", text: 'local_prefix = "a/"\n[[rule]]\ntopic = "x/#"\ndirection = "inbound"\nlocal_prefix = "${tedge.c8y.bridge.topic_prefix}/"\n', rules: [['x/#', 'inbound', 'c8y/', '']] },
    { name: 'if on rules: flags, negation, auth method', text: '[[rule]]\ntopic = "a"\ndirection = "bidirectional"\nif = "${mapper.on}"\n[[rule]]\ntopic = "b"\ndirection = "outbound"\nif = "!${mapper.on}"\n[[rule]]\ntopic = "c"\ndirection = "outbound"\nif = "${connection.auth_method} == \'certificate\'"\n', rules: [['a', 'bidirectional', '', ''], ['c', 'outbound', '', '']] },
    { name: 'a file whose if is false has no rules', text: 'if = "${mapper.off}"\n[[rule]]\ntopic = "a"\ndirection = "outbound"\n', rules: [] },
    {
      name: 'template_rule over a literal list: one rule per item, ${item} in the topic, after the [[rule]]s',
      text: 'local_prefix = "c8y/"\n[[template_rule]]\nfor = ["s", "t"]\ntopic = "${item}/us/#"\ndirection = "outbound"\n[[rule]]\ntopic = "s/ds"\ndirection = "inbound"\n',
      rules: [['s/ds', 'inbound', 'c8y/', ''], ['s/us/#', 'outbound', 'c8y/', ''], ['t/us/#', 'outbound', 'c8y/', '']],
    },
    {
      name: 'template_rule over a tedge.toml list, its own prefixes expanded',
      text: '[[template_rule]]\nfor = "${tedge.c8y.smartrest.templates}"\ntopic = "s/uc/${item}"\ndirection = "outbound"\nlocal_prefix = "${tedge.c8y.bridge.topic_prefix}/"\nremote_prefix = ""\n',
      rules: [['s/uc/tpl-a', 'outbound', 'c8y/', ''], ['s/uc/tpl-b', 'outbound', 'c8y/', '']],
    },
    {
      name: 'template_rule over a mapper.toml array, with other variables in the topic',
      text: 'remote_prefix = "${mapper.bridge.topic_prefix}/"\n[[template_rule]]\nfor = "${mapper.topics}"\ntopic = "${item}/${connection.auth_method}"\ndirection = "bidirectional"\n',
      rules: [['attributes/certificate', 'bidirectional', '', 'v1/devices/me/'], ['telemetry/certificate', 'bidirectional', '', 'v1/devices/me/']],
    },
    { name: 'a tedge.toml value given as text is split at commas', text: '[[template_rule]]\nfor = "${tedge.c8y.proxy.cert_path}"\ntopic = "${item}"\ndirection = "outbound"\n', rules: [['x', 'outbound', '', ''], ['y', 'outbound', '', '']] },
    { name: 'an empty list gives no rule', text: '[[template_rule]]\nfor = "${mapper.none}"\ntopic = "${item}"\ndirection = "outbound"\n', rules: [] },
    {
      name: "a template_rule's if: false drops all its rules, the auth method comparison",
      text: '[[template_rule]]\nif = "${connection.auth_method} == \'password\'"\nfor = ["s"]\ntopic = "${item}/ul/#"\ndirection = "outbound"\n[[template_rule]]\nif = "${mapper.on}"\nfor = ["q"]\ntopic = "${item}/us"\ndirection = "outbound"\n',
      rules: [['q/us', 'outbound', '', '']],
    },
    { name: "a file's false if drops its template rules too", text: 'if = "!${mapper.on}"\n[[template_rule]]\nfor = ["s"]\ntopic = "${item}"\ndirection = "outbound"\n', rules: [] },
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
    ['[[template_rule]]\ntopic = "${item}"\ndirection = "outbound"\n', /template_rule\[0\]\.for is missing/],
    ['[[template_rule]]\nfor = [1, 2]\ntopic = "${item}"\ndirection = "outbound"\n', /for must be an array of strings/],
    ['[[template_rule]]\nfor = "s,t"\ntopic = "${item}"\ndirection = "outbound"\n', /for 's,t': expected/],
    ['[[template_rule]]\nfor = "${mapper.bridge.topic_prefix}"\ntopic = "${item}"\ndirection = "outbound"\n', /\$\{mapper\.bridge\.topic_prefix\} is not an array of strings/],
    ['[[template_rule]]\nfor = "${mapper.nope}"\ntopic = "${item}"\ndirection = "outbound"\n', /for: \$\{mapper\.nope\} is not set/],
    ['[[template_rule]]\nfor = []\ntopic = "${mapper.nope}/${item}"\ndirection = "outbound"\n', /topic: \$\{mapper\.nope\} is not set/],
    ['[[template_rule]]\nfor = ["a"]\ntopic = "${item}"\ndirection = "outbound"\nqos = 1\n', /unknown field\(s\) qos in template_rule\[0\]/],
    ['[[rule]]\ntopic = "${item}"\ndirection = "outbound"\n', /\$\{item\} is only known in the topic of a \[\[template_rule\]\]/],
    ['[[template_rule]]\nfor = ["a"]\ntopic = "x"\nlocal_prefix = "${item}/"\ndirection = "outbound"\n', /local_prefix: \$\{item\} is only known/],
    ['[[rule]]\ntopic = "${mapper.topics}"\ndirection = "outbound"\n', /is a list, not a single value/],
    ['template_rule = 1\n', /template_rule must be an array of tables/],
  ];
  for (const [text, message] of errors) it(`refuses ${JSON.stringify(text.split('\n')[0])}… with ${message}`, () => assert.throws(() => parse(text), message));
});
