import type { QoS } from '../core/message';

export type Direction = 'outbound' | 'inbound' | 'bidirectional';

/**
 * One bridge rule, as in mosquitto's `topic <pattern> <direction> <qos> <local_prefix> <remote_prefix>`
 * and thin-edge's bridge rule files (§3.4): `topic` is a filter relative to both prefixes.
 */
export interface BridgeRule {
  readonly topic: string;
  readonly direction: Direction;
  readonly qos: QoS;
  readonly localPrefix: string;
  readonly remotePrefix: string;
}

/** What a cloud connection needs besides its rules. */
export interface CloudProfile {
  readonly cloud: 'c8y' | 'az' | 'aws';
  readonly rules: readonly BridgeRule[];
  /** c8y: clean (the outbox is our session); az/aws keep a persistent session as thin-edge does. */
  readonly cleanSession: boolean;
  /** Azure IoT Hub wants `<hub>/<device>/?api-version=…` as user name. */
  readonly username?: string;
}

function rule(topic: string, direction: Direction, qos: QoS, localPrefix: string, remotePrefix = ''): BridgeRule {
  return { topic, direction, qos, localPrefix, remotePrefix };
}

/**
 * Cumulocity (§2.2, the topics of thin-edge's c8y-bridge.conf): local `<prefix>/<topic>` ⇄ remote `<topic>`.
 * JWT topics only with certificate authentication; the debug topic s/e and the JWT topics at QoS 0.
 */
export function c8yRules(prefix: string, opts: { certificateAuth: boolean } = { certificateAuth: true }): BridgeRule[] {
  const local = `${prefix}/`;
  const out = (topic: string, qos: QoS = 1): BridgeRule => rule(topic, 'outbound', qos, local);
  const inb = (topic: string, qos: QoS = 1): BridgeRule => rule(topic, 'inbound', qos, local);
  const smartrest = ['s', 't', 'q', 'c'];
  return [
    ...smartrest.map((s) => out(`${s}/us/#`)),
    out('s/ut/#'),
    ...smartrest.map((s) => out(`${s}/uc/#`)),
    out('inventory/managedObjects/update/#'),
    out('measurement/measurements/create'),
    out('measurement/measurements/createBulk'),
    out('event/events/create'),
    out('event/events/createBulk'),
    out('alarm/alarms/create'),
    out('alarm/alarms/createBulk'),
    ...(opts.certificateAuth ? [out('s/uat', 0)] : []),
    inb('s/dt'),
    inb('s/ds'),
    inb('s/e', 0),
    inb('s/dc/#'),
    inb('devicecontrol/notifications'),
    inb('error'),
    ...(opts.certificateAuth ? [inb('s/dat', 0)] : []),
  ];
}

/** Azure IoT Hub (§2.3): telemetry to the device's event topic, C2D messages, twin and direct methods. */
export function azRules(prefix: string, deviceId: string): BridgeRule[] {
  const local = `${prefix}/`;
  const device = `devices/${deviceId}/`;
  return [
    rule('messages/events/#', 'outbound', 1, local, device),
    rule('messages/devicebound/#', 'inbound', 1, local, device),
    rule('twin/GET/#', 'outbound', 1, local, '$iothub/'),
    rule('twin/PATCH/#', 'outbound', 1, local, '$iothub/'),
    rule('methods/res/#', 'outbound', 1, local, '$iothub/'),
    rule('twin/res/#', 'inbound', 1, local, '$iothub/'),
    rule('methods/POST/#', 'inbound', 1, local, '$iothub/'),
  ];
}

/** AWS IoT (§2.4): telemetry, commands, the shadow both ways, and the connection test echo. */
export function awsRules(prefix: string, deviceId: string): BridgeRule[] {
  const local = `${prefix}/`;
  return [
    rule('td/#', 'outbound', 1, local, `thinedge/${deviceId}/`),
    rule('cmd/#', 'inbound', 1, local, `thinedge/${deviceId}/`),
    rule('shadow/#', 'bidirectional', 1, local, `$aws/things/${deviceId}/`),
    // Whole-topic rules (mosquitto's `""` pattern): AWS echoes the test message to its publisher.
    rule('', 'outbound', 1, `${local}test-connection`, `thinedge/devices/${deviceId}/test-connection`),
    rule('', 'inbound', 1, `${local}connection-success`, `thinedge/devices/${deviceId}/test-connection`),
  ];
}

export function cloudProfile(cloud: CloudProfile['cloud'], opts: { prefix: string; deviceId: string; azHost?: string }): CloudProfile {
  switch (cloud) {
    case 'c8y':
      return { cloud, rules: c8yRules(opts.prefix), cleanSession: true };
    case 'az':
      return { cloud, rules: azRules(opts.prefix, opts.deviceId), cleanSession: false, username: `${opts.azHost ?? ''}/${opts.deviceId}/?api-version=2018-06-30` };
    case 'aws':
      return { cloud, rules: awsRules(opts.prefix, opts.deviceId), cleanSession: false };
  }
}
