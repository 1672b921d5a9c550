// {"temperature": 21, "Climate": {"humidity": 40}, "time": 1754570846.1}
//   → {"ts": 1754570846100, "values": {"temperature": 21, "Climate.humidity": 40}}
const utf8 = new TextDecoder();

function flatten(prefix, value, into) {
  if (typeof value === 'number') into[prefix] = value;
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten(prefix === '' ? k : `${prefix}.${k}`, v, into);
}

export function onMessage(message, context) {
  const levels = message.topic.split('/');
  const entity = levels.slice(1, 5).join('/');
  const json = JSON.parse(utf8.decode(message.payload));
  const ts = typeof json.time === 'number' ? Math.round(json.time * 1000) : Date.parse(json.time);
  delete json.time;
  const values = {};
  flatten('', json, values);
  const prefix = context.config.prefix;
  if (entity === 'device/main//') return { topic: `${prefix}/v1/devices/me/telemetry`, payload: JSON.stringify({ ts, values }) };
  const device = context.mapper.get(`tb:${entity}`);
  if (device === null) throw new Error(`${entity} is not registered: its measurements cannot be addressed`);
  return { topic: `${prefix}/v1/gateway/telemetry`, payload: JSON.stringify({ [device.name]: [{ ts, values }] }) };
}
