// Registers → named, scaled measurement values. Pure: no state, no I/O.
const utf8 = new TextDecoder();

function registersOf(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const json = JSON.parse(trimmed);
    if (!Array.isArray(json.registers)) throw new Error('expected {"registers": [...]}');
    return json.registers;
  }
  return trimmed.split(',').map((v) => Number(v));
}

export function onMessage(message, context) {
  const device = message.topic.split('/')[1];
  const registers = registersOf(utf8.decode(message.payload));
  const measurement = {};
  for (const r of context.config.registers) {
    const raw = registers[r.index];
    if (typeof raw !== 'number' || Number.isNaN(raw)) continue;
    measurement[r.name] = Math.round((raw * (r.scale ?? 1) + (r.offset ?? 0)) * 1000) / 1000;
  }
  if (Object.keys(measurement).length === 0) throw new Error(`no configured register in ${registers.length} values`);
  return { topic: `te/device/${device}///m/${context.config.type}`, payload: JSON.stringify(measurement) };
}
