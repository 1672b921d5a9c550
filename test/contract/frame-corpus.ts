/** A generated MQTT corpus for the differential tests: every packet type, 3.1.1 and 5.0, seeded. */
import type * as mqttPacket from 'mqtt-packet';

type Rand = () => number;

const TOPICS = ['te/device/main///m/env', 'te/device/child1///e/boot', 'c8y/s/us', 'a', '', 'température/°C', 'x/y/z/+/#'];

function pick<T>(rand: Rand, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}
function int(rand: Rand, max: number): number {
  return Math.floor(rand() * (max + 1));
}
function text(rand: Rand, max = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz/-_0123456789é°';
  let s = '';
  for (let i = int(rand, max); i > 0; i--) s += alphabet[int(rand, alphabet.length - 1)];
  return s;
}
function bytes(rand: Rand, max: number): Buffer {
  const b = Buffer.alloc(int(rand, max));
  for (let i = 0; i < b.length; i++) b[i] = int(rand, 255);
  return b;
}

function userProperties(rand: Rand): Record<string, string | string[]> {
  // At least one: mqtt-packet's generate() silently writes nothing for `userProperties: {}`.
  const out: Record<string, string | string[]> = {};
  for (let i = 1 + int(rand, 2); i > 0; i--) {
    const key = text(rand, 5) || 'k';
    out[key] = rand() < 0.3 ? [text(rand) || 'v1', text(rand) || 'v2'] : text(rand) || 'v';
  }
  return out;
}

/** Random MQTT 5 properties among those valid for `cmd`. */
function properties(rand: Rand, cmd: string): Record<string, unknown> | undefined {
  if (rand() < 0.4) return undefined;
  const p: Record<string, unknown> = {};
  const maybe = (name: string, value: () => unknown): void => {
    if (rand() < 0.4) p[name] = value();
  };
  switch (cmd) {
    case 'connect':
      maybe('sessionExpiryInterval', () => int(rand, 0xffffffff));
      maybe('receiveMaximum', () => 1 + int(rand, 0xfffe));
      maybe('maximumPacketSize', () => 1 + int(rand, 1e6));
      maybe('topicAliasMaximum', () => int(rand, 0xffff));
      maybe('requestResponseInformation', () => rand() < 0.5);
      maybe('requestProblemInformation', () => rand() < 0.5);
      maybe('authenticationMethod', () => text(rand) || 'SCRAM');
      maybe('authenticationData', () => bytes(rand, 8));
      break;
    case 'connack':
      maybe('sessionExpiryInterval', () => int(rand, 1e6));
      maybe('assignedClientIdentifier', () => text(rand) || 'id');
      maybe('serverKeepAlive', () => int(rand, 0xffff));
      maybe('maximumQoS', () => int(rand, 1));
      maybe('retainAvailable', () => rand() < 0.5);
      maybe('wildcardSubscriptionAvailable', () => rand() < 0.5);
      maybe('sharedSubscriptionAvailable', () => rand() < 0.5);
      maybe('responseInformation', () => text(rand) || 'r');
      maybe('serverReference', () => text(rand) || 's');
      maybe('reasonString', () => text(rand) || 'why');
      break;
    case 'publish':
      maybe('payloadFormatIndicator', () => rand() < 0.5);
      maybe('messageExpiryInterval', () => int(rand, 1e6));
      maybe('topicAlias', () => 1 + int(rand, 100));
      maybe('responseTopic', () => text(rand) || 'reply');
      maybe('correlationData', () => bytes(rand, 6));
      maybe('contentType', () => text(rand) || 'ct');
      maybe('subscriptionIdentifier', () => (rand() < 0.5 ? 1 + int(rand, 268435454) : [1 + int(rand, 100), 1 + int(rand, 100000)]));
      break;
    case 'subscribe':
      maybe('subscriptionIdentifier', () => 1 + int(rand, 268435454));
      break;
    case 'disconnect':
      maybe('sessionExpiryInterval', () => int(rand, 1e6));
      maybe('reasonString', () => text(rand) || 'bye');
      maybe('serverReference', () => text(rand) || 'elsewhere');
      break;
    case 'auth':
      maybe('authenticationMethod', () => text(rand) || 'SCRAM');
      maybe('authenticationData', () => bytes(rand, 8));
      maybe('reasonString', () => text(rand) || 'more');
      break;
    default:
      maybe('reasonString', () => text(rand) || 'because');
  }
  if (rand() < 0.3) p['userProperties'] = userProperties(rand);
  return p;
}

const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const SUBACK_CODES = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
const UNSUBACK_CODES = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
const DISCONNECT_CODES = [0x00, 0x04, 0x80, 0x81, 0x82, 0x8e, 0x93, 0x98, 0xa2];

function withProps(packet: Record<string, unknown>, v5: boolean, rand: Rand): Record<string, unknown> {
  if (!v5) return packet;
  const props = properties(rand, packet['cmd'] as string);
  if (props) packet['properties'] = props;
  return packet;
}

/** One random packet object (for mqtt-packet.generate) of a random type valid in `version`. */
export function randomPacket(rand: Rand, version: 3 | 4 | 5): mqttPacket.Packet {
  const v5 = version === 5;
  const id = 1 + int(rand, 65534);
  const kinds = ['publish', 'publish', 'publish', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'connack', 'disconnect', ...(v5 ? ['auth'] : [])];
  const cmd = pick(rand, kinds);
  let p: Record<string, unknown>;
  switch (cmd) {
    case 'publish': {
      const qos = int(rand, 2);
      p = { cmd, topic: rand() < 0.8 ? pick(rand, TOPICS) : text(rand, 40), payload: rand() < 0.1 ? Buffer.alloc(0) : bytes(rand, rand() < 0.05 ? 20000 : 200), qos, retain: rand() < 0.2, dup: qos > 0 && rand() < 0.2 };
      if (qos > 0) p['messageId'] = id;
      return withProps(p, v5, rand) as unknown as mqttPacket.Packet;
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      p = { cmd, messageId: id };
      if (v5) p['reasonCode'] = cmd === 'pubrel' || cmd === 'pubcomp' ? pick(rand, [0x00, 0x92]) : pick(rand, PUBACK_CODES);
      return withProps(p, v5, rand) as unknown as mqttPacket.Packet;
    }
    case 'subscribe': {
      const subscriptions = Array.from({ length: 1 + int(rand, 3) }, () => {
        const s: Record<string, unknown> = { topic: pick(rand, TOPICS) || 'a/#', qos: int(rand, 2) };
        if (v5) Object.assign(s, { nl: rand() < 0.5, rap: rand() < 0.5, rh: int(rand, 2) });
        return s;
      });
      return withProps({ cmd, messageId: id, subscriptions }, v5, rand) as unknown as mqttPacket.Packet;
    }
    case 'suback':
      return withProps({ cmd, messageId: id, granted: Array.from({ length: 1 + int(rand, 3) }, () => (v5 ? pick(rand, SUBACK_CODES) : pick(rand, [0, 1, 2, 128]))) }, v5, rand) as unknown as mqttPacket.Packet;
    case 'unsubscribe':
      return withProps({ cmd, messageId: id, unsubscriptions: Array.from({ length: 1 + int(rand, 2) }, () => pick(rand, TOPICS) || 'b') }, v5, rand) as unknown as mqttPacket.Packet;
    case 'unsuback':
      p = { cmd, messageId: id };
      if (v5) p['granted'] = Array.from({ length: 1 + int(rand, 2) }, () => pick(rand, UNSUBACK_CODES));
      return withProps(p, v5, rand) as unknown as mqttPacket.Packet;
    case 'connack':
      p = { cmd, sessionPresent: rand() < 0.5 };
      if (v5) p['reasonCode'] = pick(rand, [0, 0x80, 0x86, 0x87]);
      else p['returnCode'] = int(rand, 5);
      return withProps(p, v5, rand) as unknown as mqttPacket.Packet;
    case 'disconnect':
      p = { cmd };
      if (v5) p['reasonCode'] = pick(rand, DISCONNECT_CODES);
      return withProps(p, v5, rand) as unknown as mqttPacket.Packet;
    case 'auth':
      return withProps({ cmd, reasonCode: pick(rand, [0x00, 0x18, 0x19]) }, v5, rand) as unknown as mqttPacket.Packet;
    default:
      return { cmd } as mqttPacket.Packet;
  }
}

/** A CONNECT that sets the parser's protocol version (and sometimes bridge mode). */
export function randomConnect(rand: Rand, version: 3 | 4 | 5): mqttPacket.IConnectPacket {
  const p: Record<string, unknown> = {
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: rand() < 0.8,
    keepalive: int(rand, 600),
    clientId: text(rand, 20) || 'client',
  };
  if (rand() < 0.2 && version !== 5) p['bridgeMode'] = true;
  if (rand() < 0.5) {
    const will: Record<string, unknown> = { topic: pick(rand, TOPICS) || 'will', payload: bytes(rand, 30), qos: int(rand, 2), retain: rand() < 0.5 };
    if (version === 5) {
      const wp: Record<string, unknown> = {};
      if (rand() < 0.5) wp['willDelayInterval'] = int(rand, 100);
      if (rand() < 0.5) wp['contentType'] = 'text/plain';
      if (rand() < 0.3) wp['userProperties'] = userProperties(rand);
      if (Object.keys(wp).length) will['properties'] = wp;
    }
    p['will'] = will;
  }
  if (rand() < 0.5) {
    p['username'] = text(rand) || 'user';
    if (rand() < 0.7) p['password'] = bytes(rand, 12);
  }
  if (version === 5) {
    const props = properties(rand, 'connect');
    if (props) p['properties'] = props;
  }
  return p as unknown as mqttPacket.IConnectPacket;
}
