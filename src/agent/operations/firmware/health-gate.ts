import { type JsonValue, isJsonObject, parseJson } from '../../../core/json';
import { type EntityTopicId, defaultSchemeParts, serviceTopicId, topicFor } from '../../../core/topics';
import { type CloudScope, PROFILE_CLOUDS, mapperServiceName } from '../../../config/profiles';
import type { HandlerConfig, HandlerContext } from '../operation';

/**
 * The health gate of a new firmware slot: which services must report `up`, and whether a status
 * message says so. Pure; firmware-bus.ts watches the broker with it.
 */
export interface RequiredService {
  /** The service name, as the reason of a failed gate names it. */
  readonly name: string;
  readonly topic: string;
  /** The agent itself: its status must carry this process's pid (the retained `up` of the old boot does not count). */
  readonly pid?: number;
  /** A mosquitto bridge reports `1`/`0`, not JSON. */
  readonly mosquittoBridge?: boolean;
}

/**
 * The agent, and on the main device each configured connection's mapper (`<cloud>.url` set, in the
 * default profile or a named one: `tedge-mapper-c8y@<name>`) and its bridge connected to the cloud:
 * the built-in bridge `tedge-mapper-bridge-<prefix>` (up only while connected), or with
 * mqtt.bridge.built_in=false mosquitto's `mosquitto-<prefix>-bridge` (a profile has its own prefix).
 */
export function requiredServices(ctx: Pick<HandlerContext, 'config' | 'device'>, root: string, pid: number): RequiredService[] {
  const parts = defaultSchemeParts(ctx.device);
  const device = parts?.device ?? 'main';
  const health = (name: string): string => topicFor(serviceTopicId(device, name), { kind: 'health' }, root);
  const out: RequiredService[] = [{ name: 'tedge-agent', topic: health('tedge-agent'), pid }];
  if (ctx.device !== ('device/main//' as EntityTopicId)) return out;
  const builtIn = ctx.config.boolean('mqtt.bridge.built_in');
  for (const cloud of PROFILE_CLOUDS) {
    const named = ctx.config.profiles?.(cloud) ?? [];
    const connections: Array<[CloudScope, HandlerConfig]> = [[{ cloud, profile: undefined }, ctx.config]];
    for (const profile of named) {
      const view = ctx.config.forCloud?.(cloud, profile);
      if (view !== undefined) connections.push([{ cloud, profile }, view]);
    }
    for (const [scope, config] of connections) {
      if ((config.text(`${cloud}.url`) ?? '') === '') continue;
      const mapper = mapperServiceName(scope);
      out.push({ name: mapper, topic: health(mapper) });
      const prefix = config.string(`${cloud}.bridge.topic_prefix`);
      if (builtIn) out.push({ name: `tedge-mapper-bridge-${prefix}`, topic: health(`tedge-mapper-bridge-${prefix}`) });
      else out.push({ name: `mosquitto-${prefix}-bridge`, topic: health(`mosquitto-${prefix}-bridge`), mosquittoBridge: true });
    }
  }
  return out;
}

/** `time` of a status: unix seconds or RFC 3339, per service.timestamp_format. */
function statusTime(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * Whether `text` (the service's last retained status) says it is up in this boot: `up`, and when it
 * carries a time, not older than `since` (the retained `up` a broker kept from before the reboot is stale).
 * Unix times have whole seconds: compared at that precision.
 */
export function isUp(service: RequiredService, text: string, since: Date | undefined): boolean {
  if (service.mosquittoBridge === true) return text.trim() === '1';
  let v: JsonValue;
  try {
    v = parseJson(text);
  } catch {
    return false;
  }
  if (!isJsonObject(v) || v['status'] !== 'up') return false;
  if (service.pid !== undefined) return v['pid'] === service.pid;
  const t = statusTime(v['time']);
  if (since === undefined || t === undefined) return true;
  return t >= Math.floor(since.getTime() / 1000) * 1000;
}
