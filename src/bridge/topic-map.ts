import { topicMatches } from '../bus/topic-filter';
import type { QoS } from '../core/message';
import type { BridgeRule } from './rules';

export interface Mapped {
  readonly topic: string;
  readonly qos: QoS;
  /** From a bidirectional rule: its echo from the other side must not be bridged back. */
  readonly bidirectional: boolean;
}

function sends(rule: BridgeRule, way: 'outbound' | 'inbound'): boolean {
  return rule.direction === way || rule.direction === 'bidirectional';
}

/** `from` → `to` when `topic` is `fromPrefix` + something the rule's filter matches; '' topic = the prefix itself. */
function translate(rule: BridgeRule, topic: string, fromPrefix: string, toPrefix: string): string | undefined {
  if (rule.topic === '') return topic === fromPrefix ? toPrefix : undefined;
  if (!topic.startsWith(fromPrefix)) return undefined;
  const rest = topic.slice(fromPrefix.length);
  return rest !== '' && topicMatches(rule.topic, rest) ? toPrefix + rest : undefined;
}

/** The rule that bridges `topic` one way (the first that matches, as the bridge applies them) and the topic it makes. */
export function bridgingRule(rules: readonly BridgeRule[], topic: string, way: 'outbound' | 'inbound'): { readonly rule: BridgeRule; readonly topic: string } | undefined {
  for (const r of rules) {
    if (!sends(r, way)) continue;
    const mapped = way === 'outbound' ? translate(r, topic, r.localPrefix, r.remotePrefix) : translate(r, topic, r.remotePrefix, r.localPrefix);
    if (mapped !== undefined) return { rule: r, topic: mapped };
  }
  return undefined;
}

function mappedBy(found: { readonly rule: BridgeRule; readonly topic: string } | undefined): Mapped | undefined {
  return found === undefined ? undefined : { topic: found.topic, qos: found.rule.qos, bidirectional: found.rule.direction === 'bidirectional' };
}

/** The remote topic of a local message, by the first rule that matches; undefined = not bridged. */
export function toRemote(rules: readonly BridgeRule[], localTopic: string): Mapped | undefined {
  return mappedBy(bridgingRule(rules, localTopic, 'outbound'));
}

/** The local topic of a cloud message, by the first rule that matches; undefined = not bridged. */
export function toLocal(rules: readonly BridgeRule[], remoteTopic: string): Mapped | undefined {
  return mappedBy(bridgingRule(rules, remoteTopic, 'inbound'));
}

/** True when every topic `narrow` matches, `wide` matches too (`a/#` covers `a`, `a/+/c` and `a/#`; `+`/`#` first never cover `$…`). */
export function filterCovers(wide: string, narrow: string): boolean {
  const w = wide.split('/');
  const n = narrow.split('/');
  const dollar = n[0]?.startsWith('$') === true;
  for (let i = 0; ; i++) {
    const wl = w[i];
    if (wl === undefined) return i === n.length;
    if (wl === '#') return !(i === 0 && dollar);
    const nl = n[i];
    if (nl === undefined || nl === '#') return false;
    if (wl === '+') {
      if (i === 0 && dollar) return false;
    } else if (wl !== nl) return false;
  }
}

/**
 * What the bridge subscribes to on one side, with the highest QoS any rule asks for each filter. A filter
 * another one covers is left out (its QoS goes to the wider one): a broker may deliver a message once per
 * matching subscription, and the bridge would forward each copy. The first matching rule still maps the topic.
 */
export function subscriptions(rules: readonly BridgeRule[], side: 'local' | 'remote'): Map<string, QoS> {
  const all = new Map<string, QoS>();
  for (const r of rules) {
    if (!sends(r, side === 'local' ? 'outbound' : 'inbound')) continue;
    const filter = (side === 'local' ? r.localPrefix : r.remotePrefix) + r.topic;
    all.set(filter, Math.max(all.get(filter) ?? 0, r.qos) as QoS);
  }
  const filters = [...all.keys()];
  const out = new Map<string, QoS>();
  for (const [filter, qos] of all) if (!filters.some((f) => f !== filter && filterCovers(f, filter))) out.set(filter, qos);
  for (const [filter, qos] of all) {
    if (out.has(filter)) continue;
    for (const [kept, keptQos] of out) if (filterCovers(kept, filter)) out.set(kept, Math.max(keptQos, qos) as QoS);
  }
  return out;
}

/**
 * toRemote/toLocal with a memo: the same few topics carry nearly all traffic. Bounded, because
 * topics that embed ids (inventory updates per child) are unbounded over a device's life.
 */
export class TopicMapper {
  private readonly out = new Map<string, Mapped | null>();
  private readonly in = new Map<string, Mapped | null>();

  constructor(
    readonly rules: readonly BridgeRule[],
    private readonly capacity = 1024,
  ) {}

  toRemote(localTopic: string): Mapped | undefined {
    return this.memo(this.out, localTopic, () => toRemote(this.rules, localTopic));
  }

  toLocal(remoteTopic: string): Mapped | undefined {
    return this.memo(this.in, remoteTopic, () => toLocal(this.rules, remoteTopic));
  }

  private memo(cache: Map<string, Mapped | null>, topic: string, compute: () => Mapped | undefined): Mapped | undefined {
    const hit = cache.get(topic);
    if (hit !== undefined) return hit ?? undefined;
    const value = compute();
    if (cache.size >= this.capacity) cache.clear();
    cache.set(topic, value ?? null);
    return value;
  }
}
