import { TedgeError } from '../core/errors';
import type { BridgeRule, Direction } from './rules';

/** What `${<namespace>.<key>}` in a rule file stands for: `mapper` (mapper.toml), `tedge` (tedge.toml), `connection`. */
export type TemplateLookup = (namespace: string, key: string) => string | boolean | number | undefined;

const FILE_KEYS = new Set(['local_prefix', 'remote_prefix', 'rule', 'template_rule', 'if']);
const RULE_KEYS = new Set(['local_prefix', 'remote_prefix', 'direction', 'topic', 'if']);
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound', 'bidirectional'];

function fail(file: string, what: string): never {
  throw new TedgeError('CONFIG_FILE', `bridge rules ${file}: ${what}`);
}

function expand(text: unknown, file: string, field: string, lookup: TemplateLookup): string {
  if (typeof text !== 'string') fail(file, `${field} must be a string`);
  return text.replace(/\$\{([a-z_]+)\.([A-Za-z0-9_.-]+)\}/g, (_, ns: string, key: string) => {
    const value = lookup(ns, key);
    if (value === undefined) fail(file, `${field}: \${${ns}.${key}} is not set`);
    return String(value);
  });
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

/**
 * The rules of one bridge rule file in thin-edge's format: file-level `local_prefix`/`remote_prefix`
 * (a rule's own prefix wins), `[[rule]]` with `topic` and `direction`, optional `if` on the file and on each
 * rule. Rules are forwarded at QoS 1, as thin-edge's built-in bridge does.
 */
export function parseBridgeRuleFile(doc: Record<string, unknown>, file: string, lookup: TemplateLookup): BridgeRule[] {
  unknownKeys(doc, FILE_KEYS, file, 'at the top of the file');
  if (doc['template_rule'] !== undefined) fail(file, '[[template_rule]] (rules over a list) is not supported yet');
  if (doc['if'] !== undefined && !condition(doc['if'], file, lookup)) return [];
  const rules = doc['rule'] ?? [];
  if (!Array.isArray(rules)) fail(file, 'rule must be an array of tables ([[rule]])');
  const filePrefix = (key: 'local_prefix' | 'remote_prefix'): string => (doc[key] === undefined ? '' : expand(doc[key], file, key, lookup));
  const local = filePrefix('local_prefix');
  const remote = filePrefix('remote_prefix');
  const out: BridgeRule[] = [];
  rules.forEach((r: unknown, i) => {
    const where = `rule[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) fail(file, `${where} must be a table`);
    const rule = r as Record<string, unknown>;
    unknownKeys(rule, RULE_KEYS, file, `in ${where}`);
    const direction = rule['direction'];
    if (!DIRECTIONS.some((d) => d === direction)) fail(file, `${where}.direction must be one of ${DIRECTIONS.join(', ')}`);
    if (rule['topic'] === undefined) fail(file, `${where}.topic is missing`);
    if (rule['if'] !== undefined && !condition(rule['if'], file, lookup)) return;
    out.push({
      topic: expand(rule['topic'], file, `${where}.topic`, lookup),
      direction: direction as Direction,
      qos: 1,
      localPrefix: rule['local_prefix'] === undefined ? local : expand(rule['local_prefix'], file, `${where}.local_prefix`, lookup),
      remotePrefix: rule['remote_prefix'] === undefined ? remote : expand(rule['remote_prefix'], file, `${where}.remote_prefix`, lookup),
    });
  });
  return out;
}
