// Written in TypeScript: `tedge-mapper` compiles .ts steps when the TypeScript compiler is installed.
interface Message {
  topic: string;
  payload: Uint8Array | string;
  time?: Date;
  mqtt?: { qos?: 0 | 1 | 2; retain?: boolean };
}

interface KVStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

const CONVERSIONS: Record<string, { name: string; unit: string; convert: (v: number) => number }> = {
  temperature_f: { name: 'temperature', unit: '°C', convert: (f) => ((f - 32) * 5) / 9 },
  pressure_psi: { name: 'pressure', unit: 'kPa', convert: (psi) => psi * 6.894757 },
  speed_mph: { name: 'speed', unit: 'km/h', convert: (mph) => mph * 1.609344 },
  length_in: { name: 'length', unit: 'mm', convert: (inch) => inch * 25.4 },
};

const round = (v: number): number => Math.round(v * 100) / 100;

export function onMessage(message: Message, context: { script: KVStore }): Message[] {
  const sensor = message.topic.split('/')[1] as string;
  const input = JSON.parse(new TextDecoder().decode(message.payload as Uint8Array)) as Record<string, unknown>;
  const values: Record<string, number> = {};
  const units: Record<string, { unit: string }> = {};
  for (const [key, value] of Object.entries(input)) {
    const c = CONVERSIONS[key];
    if (typeof value !== 'number') continue;
    if (c === undefined) values[key] = value;
    else {
      values[c.name] = round(c.convert(value));
      units[c.name] = { unit: c.unit };
    }
  }
  const out: Message[] = [{ topic: `te/device/main///m/${sensor}`, payload: JSON.stringify(values) }];
  // The units once per sensor and set of series: retained metadata, as Thin Edge JSON documents it.
  const known = JSON.stringify(Object.keys(units).sort());
  if (context.script.get(sensor) !== known) {
    context.script.set(sensor, known);
    out.unshift({ topic: `te/device/main///m/${sensor}/meta`, payload: JSON.stringify(units), mqtt: { retain: true } });
  }
  return out;
}
