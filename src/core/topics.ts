/**
 * The `te/` topic schema, v1: `<root>/<entity topic id: 4 segments>[/<channel>]`.
 * `parseTopic` and `topicFor` are exact inverses; no other module builds or splits `te/` topics.
 *
 * @example
 *   parseTopic('te/device/main///m/env')
 *   // → { root: 'te', entity: 'device/main//', channel: { kind: 'measurement', type: 'env' } }
 */

/** Four segments joined by `/`; empty segments mean "not applicable", e.g. `device/main//`. */
export type EntityTopicId = string;

export type Channel =
  | { readonly kind: 'registration' }
  | { readonly kind: 'measurement'; readonly type: string }
  | { readonly kind: 'measurement-meta'; readonly type: string }
  | { readonly kind: 'event'; readonly type: string }
  | { readonly kind: 'event-meta'; readonly type: string }
  | { readonly kind: 'alarm'; readonly type: string }
  | { readonly kind: 'alarm-meta'; readonly type: string }
  | { readonly kind: 'twin'; readonly fragment: string }
  | { readonly kind: 'command-capability'; readonly operation: string }
  | { readonly kind: 'command'; readonly operation: string; readonly cmdId: string }
  | { readonly kind: 'health' }
  | { readonly kind: 'metrics'; readonly name: string }
  | { readonly kind: 'signal'; readonly type: string }
  | { readonly kind: 'config' };

export type ChannelKind = Channel['kind'];

export interface EntityTopic {
  readonly root: string;
  readonly entity: EntityTopicId;
  readonly channel: Channel;
}

export const DEFAULT_TOPIC_ROOT = 'te';
export const MAIN_DEVICE: EntityTopicId = 'device/main//';

export function isEntityTopicId(id: string): boolean {
  return id.split('/').length === 4;
}

export function entityTopicId(segments: readonly [string, string, string, string]): EntityTopicId {
  return segments.join('/');
}

/** The channel part of a topic, as segments after the entity id. */
function channelSegments(channel: Channel): string[] {
  switch (channel.kind) {
    case 'registration':
      return [];
    case 'measurement':
      return ['m', channel.type];
    case 'measurement-meta':
      return ['m', channel.type, 'meta'];
    case 'event':
      return ['e', channel.type];
    case 'event-meta':
      return ['e', channel.type, 'meta'];
    case 'alarm':
      return ['a', channel.type];
    case 'alarm-meta':
      return ['a', channel.type, 'meta'];
    case 'twin':
      return ['twin', channel.fragment];
    case 'command-capability':
      return ['cmd', channel.operation];
    case 'command':
      return ['cmd', channel.operation, channel.cmdId];
    case 'health':
      return ['status', 'health'];
    case 'metrics':
      return ['status', 'metrics', channel.name];
    case 'signal':
      return ['signal', channel.type];
    case 'config':
      return ['config'];
  }
}

export function topicFor(entity: EntityTopicId, channel: Channel, root: string = DEFAULT_TOPIC_ROOT): string {
  if (!isEntityTopicId(entity)) throw new Error(`entity topic id must have 4 segments: '${entity}'`);
  return [root, entity, ...channelSegments(channel)].join('/');
}

function parseChannel(seg: readonly string[]): Channel | undefined {
  const [a, b, c, ...rest] = seg;
  if (a === undefined) return { kind: 'registration' };
  if (rest.length > 0) return undefined;
  switch (a) {
    case 'm':
    case 'e':
    case 'a': {
      if (b === undefined) return undefined;
      const base = a === 'm' ? 'measurement' : a === 'e' ? 'event' : 'alarm';
      if (c === undefined) return { kind: base, type: b };
      if (c === 'meta') return { kind: `${base}-meta`, type: b };
      return undefined;
    }
    case 'twin':
      return b !== undefined && b !== '' && c === undefined ? { kind: 'twin', fragment: b } : undefined;
    case 'cmd':
      if (b === undefined || b === '') return undefined;
      if (c === undefined) return { kind: 'command-capability', operation: b };
      return c === '' ? undefined : { kind: 'command', operation: b, cmdId: c };
    case 'status':
      if (b === 'health' && c === undefined) return { kind: 'health' };
      if (b === 'metrics' && c !== undefined && c !== '') return { kind: 'metrics', name: c };
      return undefined;
    case 'signal':
      return b !== undefined && b !== '' && c === undefined ? { kind: 'signal', type: b } : undefined;
    case 'config':
      return b === undefined ? { kind: 'config' } : undefined;
    default:
      return undefined;
  }
}

/**
 * Splits a `te/` topic into root, entity and channel.
 * Returns undefined for topics outside the root or with an unknown channel (the caller reports those).
 */
export function parseTopic(topic: string, root: string = DEFAULT_TOPIC_ROOT): EntityTopic | undefined {
  const seg = topic.split('/');
  if (seg[0] !== root || seg.length < 5) return undefined;
  const entity = seg.slice(1, 5).join('/');
  const channel = parseChannel(seg.slice(5));
  return channel ? { root, entity, channel } : undefined;
}

/** Segments of an entity topic id in the default `device/<d>/service/<s>` scheme, if it follows it. */
export function defaultSchemeParts(entity: EntityTopicId): { device: string; service?: string } | undefined {
  const [kind, device, svcKind, service] = entity.split('/');
  if (kind !== 'device' || !device) return undefined;
  if (svcKind === '' && service === '') return { device };
  if (svcKind === 'service' && service) return { device, service };
  return undefined;
}

export function deviceTopicId(device: string): EntityTopicId {
  return `device/${device}//`;
}

export function serviceTopicId(device: string, service: string): EntityTopicId {
  return `device/${device}/service/${service}`;
}

export function errorsTopic(root: string = DEFAULT_TOPIC_ROOT): string {
  return `${root}/errors`;
}

/** Subscription filters for a channel on all entities: `te/+/+/+/+/m/+` etc. */
export function allEntitiesFilter(channelPattern: string, root: string = DEFAULT_TOPIC_ROOT): string {
  return channelPattern === '' ? `${root}/+/+/+/+` : `${root}/+/+/+/+/${channelPattern}`;
}
