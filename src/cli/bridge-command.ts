import type { Command } from 'commander';
import { effectiveBridgeRules, bridgeTarget } from '../bridge/inspect';
import type { BridgeRule } from '../bridge/rules';
import { bridgingRule } from '../bridge/topic-map';
import { profileOption } from '../config/profiles';
import { TedgeError } from '../core/errors';
import type { CommandContext } from './context';
import { EXIT_FAILURE, EXIT_USAGE, ExitStatus } from './exit-codes';

/** thin-edge's code for "no rule bridges this topic": the answer, not a failure (scripts branch on it). */
const EXIT_NOT_BRIDGED = EXIT_USAGE;

const PROFILE_HELP = 'the cloud profile (c8y, az, aws; env TEDGE_CLOUD_PROFILE); `c8y.<profile>` names one too';
const TARGET_HELP = 'c8y, az, aws, or a user-defined mapper (<config-dir>/mappers/<name>/bridge/*.toml)';

/** `  <from padded>  -> <to>` lines of one direction, or thin-edge's placeholder when it has none. */
function section(title: string, rules: readonly BridgeRule[], from: (r: BridgeRule) => string, to: (r: BridgeRule) => string, arrow: string): string[] {
  if (rules.length === 0) return [title, '  -- No matching rules --'];
  const width = Math.max(...rules.map((r) => from(r).length));
  return [title, ...rules.map((r) => `  ${from(r).padEnd(width)}  ${arrow}  ${to(r)}`)];
}

const local = (r: BridgeRule): string => r.localPrefix + r.topic;
const remote = (r: BridgeRule): string => r.remotePrefix + r.topic;

/** thin-edge's layout: outbound, inbound, then bidirectional rules, each in the order the bridge tries them. */
export function formatRules(rules: readonly BridgeRule[]): string {
  const of = (d: BridgeRule['direction']): BridgeRule[] => rules.filter((r) => r.direction === d);
  return [
    ...section('Local -> Remote', of('outbound'), local, remote, '->'),
    '',
    ...section('Remote -> Local', of('inbound'), remote, local, '->'),
    '',
    ...section('Bidirectional', of('bidirectional'), local, remote, '<->'),
  ].join('\n');
}

/**
 * Where the bridge sends `topic`, read as a local topic and as a remote one: for each side, the rule the bridge
 * applies (the first that matches), `[local] a  ->  [remote] b (direction)`, and the rule's pattern when the
 * topic matched a wildcard. Empty when no rule bridges it.
 */
export function formatTopicTest(rules: readonly BridgeRule[], topic: string): string[] {
  const lines: string[] = [];
  const out = bridgingRule(rules, topic, 'outbound');
  if (out !== undefined) {
    lines.push(`[local] ${topic}  ->  [remote] ${out.topic} (${out.rule.direction})`);
    if (local(out.rule) !== topic) lines.push(`  matched by rule: ${local(out.rule)} -> ${remote(out.rule)}`);
  }
  const inb = bridgingRule(rules, topic, 'inbound');
  if (inb !== undefined) {
    lines.push(`[remote] ${topic}  ->  [local] ${inb.topic} (${inb.rule.direction})`);
    if (remote(inb.rule) !== topic) lines.push(`  matched by rule: ${remote(inb.rule)} -> ${local(inb.rule)}`);
  }
  return lines;
}

/** thin-edge's refusal: a filter matched against filters is ambiguous. Exit 1, as thin-edge. */
function concreteTopic(topic: string): string {
  if (topic.includes('#') || topic.includes('+')) {
    throw new ExitStatus(EXIT_FAILURE, new TedgeError('INVALID_TOPIC', 'Wildcard characters (#, +) are not supported. Provide a concrete topic to test against.'));
  }
  if (topic === '') throw new ExitStatus(EXIT_FAILURE, new TedgeError('INVALID_TOPIC', 'an empty topic is not a topic: provide a concrete topic to test against'));
  return topic;
}

/**
 * `tedge bridge inspect <cloud|mapper>` and `tedge bridge test <cloud|mapper> <topic>`, as thin-edge 2.x:
 * the rules the built-in bridge runs with (the same builder as the bridge: src/bridge/inspect.ts) and where it
 * would send one topic. `test` exits 0 when a rule bridges the topic, 2 when none does (also when no bridge
 * runs: disabled, not connected, no bridge/), 1 on a wildcard topic or an error (an unknown mapper, a rule file
 * that does not expand); `inspect` exits 0, or 1 on such an error. A bad name is a usage error (2).
 */
export function registerBridgeCommand(program: Command, context: () => CommandContext): void {
  const bridge = program.command('bridge').description('show the rules of the built-in MQTT bridge, test where a topic goes');

  const load = (ctx: CommandContext, name: string, flag: string | undefined) => {
    const config = ctx.config();
    const target = bridgeTarget(name, profileOption(flag, ctx.env));
    return effectiveBridgeRules(config, target);
  };

  bridge
    .command('inspect')
    .description('show the bridge rules in effect: local -> remote, remote -> local, bidirectional')
    .argument('<cloud>', TARGET_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .action((name: string, flags: { profile?: string }) => {
      const ctx = context();
      const { lines, rules } = load(ctx, name, flags.profile);
      for (const line of lines) ctx.out(`${line}\n`);
      if (rules !== undefined && rules.length > 0) ctx.out(`${formatRules(rules)}\n`);
    });

  bridge
    .command('test')
    .description('show which rule bridges a topic (local or remote), to what topic, in which direction; exit 2 when none does')
    .argument('<cloud>', TARGET_HELP)
    .argument('<topic>', 'a local or remote topic, without wildcards')
    .option('--profile <name>', PROFILE_HELP)
    .action((name: string, topic: string, flags: { profile?: string }) => {
      const ctx = context();
      concreteTopic(topic);
      const { lines, rules } = load(ctx, name, flags.profile);
      for (const line of lines) ctx.out(`${line}\n`);
      if (rules === undefined || rules.length === 0) throw new ExitStatus(EXIT_NOT_BRIDGED);
      const matches = formatTopicTest(rules, topic);
      if (matches.length === 0) {
        ctx.out(`No matching bridge rule found for "${topic}"\n`);
        throw new ExitStatus(EXIT_NOT_BRIDGED);
      }
      for (const line of matches) ctx.out(`${line}\n`);
    });
}
