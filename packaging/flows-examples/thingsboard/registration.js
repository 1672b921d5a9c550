// te/<entity id> registration messages → context.mapper["tb:<entity id>"] = { name, type }.
// Announces a new child device to ThingsBoard (v1/gateway/connect) once.
export function onMessage(message, context) {
  const entity = message.topic.split('/').slice(1, 5).join('/');
  const text = new TextDecoder().decode(message.payload);
  if (text === '') {
    context.mapper.remove(`tb:${entity}`);
    return null;
  }
  const registration = JSON.parse(text);
  const name = registration['@id'] ?? registration['@name'] ?? entity.split('/')[1];
  const known = context.mapper.get(`tb:${entity}`);
  context.mapper.set(`tb:${entity}`, { name, type: registration['@type'] ?? 'child-device' });
  if (known !== null || entity === 'device/main//') return null;
  return { topic: 'tb/v1/gateway/connect', payload: JSON.stringify({ device: name, type: registration['@type-name'] ?? 'thin-edge' }) };
}
