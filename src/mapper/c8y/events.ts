import type { JsonValue } from '../../core/json';
import { type Message, message } from '../../core/message';
import type { TedgeEvent } from '../../core/telemetry';
import { formatRfc3339 } from '../../core/timestamp';

export const DEFAULT_EVENT_TYPE = 'ThinEdgeEvent';

export interface EventContext {
  readonly prefix: string;
  readonly topicType: string;
  readonly externalId: string;
  readonly externalSource?: { readonly externalId: string; readonly type: 'c8y_Serial' };
  readonly maxPayloadSize: number;
  readonly now: Date;
}

/**
 * Event → SmartREST 400 when it is only text and time of the main device, else Cumulocity JSON.
 * A JSON event larger than the MQTT limit goes to `c8y/http/events/create/<xid>` to be sent over HTTP (§2.2).
 */
export function toC8yEvent(e: TedgeEvent, ctx: EventContext): Message {
  const type = e.type ?? (ctx.topicType !== '' ? ctx.topicType : DEFAULT_EVENT_TYPE);
  const text = e.text ?? type;
  const time = e.time ?? formatRfc3339(ctx.now);
  const hasFragments = Object.keys(e.fragments).length > 0;
  if (!hasFragments && ctx.externalSource === undefined) {
    // thin-edge always quotes the event text in 400.
    return message(`${ctx.prefix}/s/us`, `400,${type},"${text.replace(/"/g, '""')}",${time}`, { qos: 1 });
  }
  const json: { [k: string]: JsonValue } = {};
  if (ctx.externalSource) json['externalSource'] = { ...ctx.externalSource };
  Object.assign(json, { type, text, time });
  for (const [k, v] of Object.entries(e.fragments)) if (!(k in json)) json[k] = v;
  const payload = JSON.stringify(json);
  if (Buffer.byteLength(payload) > ctx.maxPayloadSize) {
    return message(`${ctx.prefix}/http/events/create/${ctx.externalId}`, payload, { qos: 1 });
  }
  return message(`${ctx.prefix}/event/events/create`, payload, { qos: 1 });
}
