import { TedgeError } from '../core/errors';
import type { BridgeRule, Direction } from './rules';

/** A value a template may name: a setting, or a list (what `[[template_rule]]`'s `for` iterates over). */
export type TemplateValue = string | boolean | number | readonly string[];

/** What `${<namespace>.<key>}` in a rule file stands for: `mapper` (mapper.toml), `tedge` (tedge.toml), `connection`. */
export type TemplateLookup = (namespace: string, key: string) => TemplateValue | undefined;

const FILE_KEYS = new Set(['local_prefix', 'remote_prefix', 'rule', 'template_rule', 'if']);
const RULE_KEYS = new Set(['local_prefix', 'remote_prefix', 'direction', 'topic', 'if']);
const TEMPLATE_RULE_KEYS = new Set([...RULE_KEYS, 'for']);
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound', 'bidirectional'];
const REFERENCE = /\$\{(?:([a-z_]+)\.([A-Za-z0-9_.-]+)|(item))\}/g;

function fail(file: string, what: string): never {
  throw new TedgeError('CONFIG_FILE', `bridge rules ${file}: ${what}`);
}

/** `${ns.key}` replaced by its value; `${item}` by the current item of a template rule (only in its topic). */
function expand(text: unknown, file: string, field: string, lookup: TemplateLookup, item?: string): string {
  if (typeof text !== 'string') fail(file, `${field} must be a string`);
  return text.replace(REFERENCE, (_, ns: string | undefined, key: string | undefined) => {
    if (ns === undefined || key === undefined) {
      if (item === undefined) fail(file, `${field}: \${item} is only known in the topic of a [[template_rule]]`);
      return item;
    }
    const value = lookup(ns, key);
    if (value === undefined) fail(file, `${field}: \${${ns}.${key}} is not set`);
    if (typeof value === 'object') fail(file, `${field}: \${${ns}.${key}} is a list, not a single value (iterate over it with a [[template_rule]]'s for)`);
    return String(value);
  });
}

/**
 * The items of a template rule's `for`: a TOML array of strings, or exactly one `${tedge.key}` or
 * `${mapper.key}` naming a list (a tedge.toml setting given as text is split at commas, as thin-edge's
 * template sets are).
 */
function items(spec: unknown, file: string, where: string, lookup: TemplateLookup): readonly string[] {
  if (Array.isArray(spec)) {
    if (!spec.every((v): v is string => typeof v === 'string')) fail(file, `${where}.for must be an array of strings`);
    return spec;
  }
  if (typeof spec !== 'string') fail(file, `${where}.for must be an array of strings or "\${tedge.<key>}" / "\${mapper.<key>}"`);
  const ref = /^\$\{(tedge|mapper)\.([A-Za-z0-9_.-]+)\}$/.exec(spec.trim());
  if (ref === null) fail(file, `${where}.for '${spec}': expected "\${tedge.<key>}" or "\${mapper.<key>}" naming a list`);
  const [, ns = '', key = ''] = ref;
  const value = lookup(ns, key);
  if (value === undefined) fail(file, `${where}.for: \${${ns}.${key}} is not set`);
  if (typeof value === 'object') return value;
  if (ns === 'tedge') return String(value).split(',').map((s) => s.trim()).filter((s) => s !== '');
  fail(file, `${where}.for: \${${ns}.${key}} is not an array of strings`);
}

/**
 * thin-edge's `if`: `${ns.key}` or `!${ns.key}` (a boolean setting), or `${connection.auth_method} == 'certificate'`
 * (or `'password'`).
 */
function condition(text: unknown, file: string, lookup: TemplateLookup): boolean {
  if (typeof text !== 'string') fail(file, 'if must be a string');
  const compare = /^\s*\$\{([a-z_]+)\.([A-Za-z0-9_.-]+)\}\s*==\s*'([^']*)'\s*$/.exec(text);
  if (compare !== null) return String(lookup(compare[1] ?? '', compare[2] ?? '')) === compare[3];
  const flag = /^\s*(!?)\s*\$\{([a-z_]+)\.([A-Za-z0-9_.-]+)\}\s*$/.exec(text);
  if (flag === null) fail(file, `unsupported condition '${text}'`);
  const value = lookup(flag[2] ?? '', flag[3] ?? '');
  const truthy = value === true || value === 'true';
  if (value !== undefined && typeof value !== 'boolean' && value !== 'true' && value !== 'false') fail(file, `if: \${${flag[2]}.${flag[3]}} is not a boolean`);
  return flag[1] === '!' ? !truthy : truthy;
}

function unknownKeys(table: Record<string, unknown>, allowed: ReadonlySet<string>, file: string, where: string): void {
  const unknown = Object.keys(table).filter((k) => !allowed.has(k));
  if (unknown.length > 0) fail(file, `unknown field(s) ${unknown.join(', ')} ${where}`);
}

function tableAt(entries: unknown, file: string, kind: string): Array<Record<string, unknown>> {
  const list = entries ?? [];
  if (!Array.isArray(list)) fail(file, `${kind} must be an array of tables ([[${kind}]])`);
  return list.map((r: unknown, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) fail(file, `${kind}[${i}] must be a table`);
    return r as Record<string, unknown>;
  });
}

/** False when the file's own `if` is false: thin-edge then skips the whole file (`tedge bridge inspect` says so). */
export function bridgeRuleFileEnabled(doc: Record<string, unknown>, file: string, lookup: TemplateLookup): boolean {
  return doc['if'] === undefined || condition(doc['if'], file, lookup);
}

/**
 * The rules of one bridge rule file in thin-edge's format: file-level `local_prefix`/`remote_prefix`
 * (a rule's own prefix wins), `[[rule]]` with `topic` and `direction`, `[[template_rule]]` with the same
 * fields and `for` (one rule per item, `${item}` in its topic standing for the item), optional `if` on the
 * file and on each rule. Rules are forwarded at QoS 1, as thin-edge's built-in bridge does.
 */
export function parseBridgeRuleFile(doc: Record<string, unknown>, file: string, lookup: TemplateLookup): BridgeRule[] {
  unknownKeys(doc, FILE_KEYS, file, 'at the top of the file');
  if (!bridgeRuleFileEnabled(doc, file, lookup)) return [];
  const filePrefix = (key: 'local_prefix' | 'remote_prefix'): string => (doc[key] === undefined ? '' : expand(doc[key], file, key, lookup));
  const local = filePrefix('local_prefix');
  const remote = filePrefix('remote_prefix');

  /** The rules of one `[[rule]]` table, or of one `[[template_rule]]` (forItems), after its `if`. */
  const rulesOf = (rule: Record<string, unknown>, where: string, forItems: boolean): BridgeRule[] => {
    unknownKeys(rule, forItems ? TEMPLATE_RULE_KEYS : RULE_KEYS, file, `in ${where}`);
    const direction = rule['direction'];
    if (!DIRECTIONS.some((d) => d === direction)) fail(file, `${where}.direction must be one of ${DIRECTIONS.join(', ')}`);
    if (rule['topic'] === undefined) fail(file, `${where}.topic is missing`);
    if (forItems && rule['for'] === undefined) fail(file, `${where}.for is missing (the list the rule is repeated over)`);
    if (rule['if'] !== undefined && !condition(rule['if'], file, lookup)) return [];
    const prefix = (key: 'local_prefix' | 'remote_prefix', fallback: string): string => (rule[key] === undefined ? fallback : expand(rule[key], file, `${where}.${key}`, lookup));
    const localPrefix = prefix('local_prefix', local);
    const remotePrefix = prefix('remote_prefix', remote);
    const make = (item?: string): BridgeRule => ({ topic: expand(rule['topic'], file, `${where}.topic`, lookup, item), direction: direction as Direction, qos: 1, localPrefix, remotePrefix });
    if (!forItems) return [make()];
    const list = items(rule['for'], file, where, lookup);
    // An empty list gives no rule, but a topic that cannot expand is still reported.
    if (list.length === 0) make('');
    return list.map((item) => make(item));
  };

  return [
    ...tableAt(doc['rule'], file, 'rule').flatMap((r, i) => rulesOf(r, `rule[${i}]`, false)),
    ...tableAt(doc['template_rule'], file, 'template_rule').flatMap((r, i) => rulesOf(r, `template_rule[${i}]`, true)),
  ];
}
