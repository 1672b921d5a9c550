import { readTlsFiles } from '../bridge/tls-files';
import type { AckingHandler } from '../bus/bus';
import { MqttBus } from '../bus/mqtt-bus';
import { openTunnel } from '../runtime/outgoing-proxy';
import { type Message, message, payloadText } from '../core/message';
import { TedgeError } from '../core/errors';
import { classifyConnectError, type FailureContext, timeoutError } from './classify';
import { type CloudEndpoint, endpointAddress } from './cloud-endpoint';

/**
 * A direct MQTT connection to the cloud over mutual TLS, with the device certificate (or the renewal
 * candidate), used to check the connection and to create the device before any bridge exists.
 *
 * It uses the device id as client id, as the cloud requires for certificate authentication, so while
 * a bridge is connected (`tedge connect --test`) it takes the bridge's session over for a moment; the
 * bridge reconnects. It never acknowledges a message it did not ask for (manualAck), so what the
 * cloud queued for a persistent session (Azure, AWS) is redelivered to the bridge, not lost here.
 */
export class CloudSession {
  private readonly waiters = new Set<(msg: Message) => void>();

  private constructor(
    private readonly bus: MqttBus,
    readonly endpoint: CloudEndpoint,
    readonly failure: FailureContext,
  ) {
    const handler: AckingHandler = (msg) => {
      for (const w of this.waiters) w(msg);
    };
    bus.onMessageWithAck(handler);
  }

  /**
   * Connects with `certPath` (and the device key); fails with one classified error (DNS, TCP, TLS
   * handshake, certificate rejected, timeout) within `timeoutMs`.
   */
  static async open(endpoint: CloudEndpoint, certPath: string, timeoutMs: number): Promise<CloudSession> {
    const failure: FailureContext = {
      endpoint: endpointAddress(endpoint),
      host: endpoint.host,
      mqttKey: `${endpoint.cloud}.mqtt`,
      certPath,
      rootCertKey: endpoint.rootCertKey,
      rootCertPath: endpoint.rootCertPath,
      timeoutMs,
    };
    const tls = readTlsFiles({ rootCertPath: endpoint.rootCertPath, certPath, keyPath: endpoint.keyPath });
    const proxy = endpoint.proxy;
    const connecting = MqttBus.connect({
      host: endpoint.host,
      port: endpoint.port,
      clientId: endpoint.deviceId,
      cleanSession: endpoint.profile.cleanSession,
      tls,
      ...(endpoint.profile.username !== undefined ? { username: endpoint.profile.username } : {}),
      reconnectPeriodMs: 0,
      manualAck: true,
      keepaliveSeconds: 60,
      // Later than our own timer, so that a timeout is reported as one (MqttBus's says only "no answer").
      connectTimeoutMs: timeoutMs + 2_000,
      ...(proxy ? { openSocket: (signal?: AbortSignal) => openTunnel(proxy, endpoint.host, endpoint.port, signal) } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(failure, `no MQTT session with ${failure.endpoint} (TLS handshake or CONNACK)`)), timeoutMs);
    });
    try {
      const bus = await Promise.race([connecting, timedOut]);
      return new CloudSession(bus, endpoint, failure);
    } catch (error) {
      // A session that comes up after we gave up is closed at once; MqttBus ends a failed one itself.
      connecting.then((late) => void late.abort().catch(() => {}), () => {});
      throw classifyConnectError(error, failure);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Publishes and resolves on the PUBACK (QoS 1), or once written (QoS 0). */
  async publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    try {
      await this.withTimeout(this.bus.publish(message(topic, payload, { qos })), `no PUBACK for ${topic}`);
    } catch (error) {
      throw classifyConnectError(error, this.failure);
    }
  }

  /**
   * Subscribes to `filter`, runs `send`, and resolves with the first message on `topic` that
   * `accept` takes; CONNECT_TIMEOUT naming `what` otherwise.
   */
  async request(filter: string, topic: string, accept: (text: string) => boolean, send: () => Promise<void>, what: string): Promise<string> {
    let found: ((text: string) => void) | undefined;
    const answer = new Promise<string>((resolve) => (found = resolve));
    const waiter = (msg: Message): void => {
      const text = payloadText(msg);
      if (msg.topic === topic && accept(text)) found?.(text);
    };
    this.waiters.add(waiter);
    try {
      await this.bus.subscribe([filter], 1);
      await send();
      return await this.withTimeout(answer, what);
    } catch (error) {
      throw classifyConnectError(error, this.failure);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  private async withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(this.failure, `${what} from ${this.failure.endpoint}`)), this.failure.timeoutMs);
    });
    try {
      return await Promise.race([p, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.bus.close().catch(() => this.bus.abort());
  }
}

export interface CheckResult {
  /** What proved the connection, for the step line. */
  readonly detail: string;
  /** Cumulocity: the tenant host the JWT was issued by (its `iss`), compared with c8y.url. */
  readonly tenantHost?: string;
}

/**
 * The connection check of §3.2: Cumulocity answers a JWT request (s/uat → 71 on s/dat); AWS echoes
 * a message published on the test topic to its subscriber; Azure acknowledges a twin request
 * (PUBACK), as a connected session with a certificate the hub accepts is all a device can observe
 * without a service-side client.
 */
export async function checkConnection(session: CloudSession): Promise<CheckResult> {
  const endpoint = session.endpoint;
  switch (endpoint.cloud) {
    case 'c8y': {
      const text = await session.request('s/dat', 's/dat', (t) => t.startsWith('71,'), () => session.publish('s/uat', '', 0), 'no JWT (71 on s/dat) after a request on s/uat');
      const tenantHost = jwtIssuer(text.slice(3));
      return { detail: 'JWT received', ...(tenantHost !== undefined ? { tenantHost } : {}) };
    }
    case 'aws': {
      const topic = awsTestTopic(endpoint);
      const payload = JSON.stringify({ check: 'tedge connect', device: endpoint.deviceId });
      await session.request(topic, topic, (t) => t === payload, () => session.publish(topic, payload, 1), `no echo on ${topic}`);
      return { detail: `test message echoed on ${topic}` };
    }
    case 'az':
      await session.publish(`$iothub/twin/GET/?$rid=${Date.now()}`, '', 1);
      return { detail: 'twin request acknowledged' };
  }
}

/** The remote topic of AWS's connection test, from the bridge rules (the single source of topics). */
export function awsTestTopic(endpoint: Pick<CloudEndpoint, 'profile' | 'prefix'>): string {
  const rule = endpoint.profile.rules.find((r) => r.direction === 'outbound' && r.localPrefix === `${endpoint.prefix}/test-connection`);
  if (rule === undefined) throw new TedgeError('CONNECT_TEST_FAILED', 'no AWS connection-test rule in the bridge rules');
  return `${rule.remotePrefix}${rule.topic}`;
}

/** The `iss` claim of a JWT, as a host; undefined when the token is not one we can read. */
export function jwtIssuer(jwt: string): string | undefined {
  const body = jwt.split('.')[1];
  if (body === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss.replace(/^[a-z]+:\/\//i, '').replace(/[/:].*$/, '') : undefined;
  } catch {
    return undefined;
  }
}
