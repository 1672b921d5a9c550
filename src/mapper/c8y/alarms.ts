import type { JsonValue } from '../../core/json';
import { type Message, message } from '../../core/message';
import type { AlarmSeverity, TedgeAlarm } from '../../core/telemetry';
import { formatRfc3339 } from '../../core/timestamp';
import { smartrestLine } from './smartrest';

export const DEFAULT_ALARM_TYPE = 'ThinEdgeAlarm';

const SMARTREST_CODE: Record<AlarmSeverity, number> = { critical: 301, major: 302, minor: 303, warning: 304 };

export interface AlarmContext {
  readonly prefix: string;
  readonly topicType: string;
  /** c8y/s/us for the main device, c8y/s/us/<xid> for others. */
  readonly smartrestTopic: string;
  readonly externalSource?: { readonly externalId: string; readonly type: 'c8y_Serial' };
  readonly now: Date;
}

/** Alarm → 301–304 (no custom fragments) or Cumulocity JSON; clear → 306 (§2.2). Severity defaults to minor. */
export function toC8yAlarm(alarm: TedgeAlarm, ctx: AlarmContext): Message {
  const type = ctx.topicType !== '' ? ctx.topicType : DEFAULT_ALARM_TYPE;
  if (alarm.kind === 'clear') return message(ctx.smartrestTopic, smartrestLine(306, type), { qos: 1 });
  const severity = alarm.severity ?? 'minor';
  const text = alarm.text ?? type;
  const time = alarm.time ?? formatRfc3339(ctx.now);
  if (Object.keys(alarm.fragments).length === 0) {
    return message(ctx.smartrestTopic, smartrestLine(SMARTREST_CODE[severity], type, text, time), { qos: 1 });
  }
  const json: { [k: string]: JsonValue } = {};
  if (ctx.externalSource) json['externalSource'] = { ...ctx.externalSource };
  Object.assign(json, { type, severity: severity.toUpperCase(), time, text });
  for (const [k, v] of Object.entries(alarm.fragments)) if (!(k in json)) json[k] = v;
  return message(`${ctx.prefix}/alarm/alarms/create`, JSON.stringify(json), { qos: 1 });
}
