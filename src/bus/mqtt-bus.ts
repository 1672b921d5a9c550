import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { TedgeError } from '../core/errors';
import type { Message, QoS } from '../core/message';
import type { Bus, LastWill } from './bus';

export interface MqttBusOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  /** false for daemons: the broker keeps their QoS 1 subscriptions and queues while they are down. */
  readonly cleanSession: boolean;
  readonly will?: LastWill;
  /** Daemons retry forever; the CLI fails after this long with one clear line. */
  readonly connectTimeoutMs?: number;
  readonly reconnectPeriodMs?: number;
  readonly keepaliveSeconds?: number;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly username?: string;
  readonly password?: string;
}

/** The MQTT.js adapter: the only file that imports `mqtt`. */
export class MqttBus implements Bus {
  /**
   * Messages that arrive before `onMessage` is called: with cleanSession=false the broker sends the
   * messages it queued for us right after CONNACK, possibly in the same chunk, before the caller of
   * `connect()` could register its handler.
   */
  private early: Message[] | undefined = [];
  private handler: (msg: Message) => void = (msg) => this.early?.push(msg);
  private readonly connectionHandlers: Array<(connected: boolean) => void> = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.handler({ topic, payload, qos: packet.qos as QoS, retain: packet.retain });
    });
    client.on('connect', () => this.connectionHandlers.forEach((h) => h(true)));
    client.on('offline', () => this.connectionHandlers.forEach((h) => h(false)));
    // MQTT.js reports socket, connack and keepalive failures as 'error' events and then reconnects by
    // itself; an 'error' event without a listener throws, which would crash a daemon over a broker restart.
    client.on('error', () => {});
  }

  /**
   * Connects and resolves once the broker has accepted the session.
   * With `connectTimeoutMs` the attempt fails with MQTT_CONNECT instead of retrying forever.
   */
  static connect(opts: MqttBusOptions): Promise<MqttBus> {
    const options: IClientOptions = {
      host: opts.host,
      port: opts.port,
      protocol: opts.tls ? 'mqtts' : 'mqtt',
      clientId: opts.clientId,
      clean: opts.cleanSession,
      keepalive: opts.keepaliveSeconds ?? 60,
      reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
      connectTimeout: opts.connectTimeoutMs ?? 30_000,
      protocolVersion: 4,
      resubscribe: true,
    };
    if (opts.will) options.will = { ...opts.will };
    if (opts.tls) Object.assign(options, opts.tls);
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    const client = mqtt.connect(options);
    const bus = new MqttBus(client);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onConnect = (): void => {
        if (timer) clearTimeout(timer);
        client.removeListener('error', onError);
        resolve(bus);
      };
      const onError = (err: Error): void => {
        if (opts.connectTimeoutMs === undefined) return; // daemons: keep retrying
        if (timer) clearTimeout(timer);
        client.end(true);
        reject(new TedgeError('MQTT_CONNECT', `cannot connect to the MQTT broker at ${opts.host}:${opts.port}: ${err.message}`, { cause: err }));
      };
      client.once('connect', onConnect);
      client.on('error', onError);
      if (opts.connectTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          client.removeListener('connect', onConnect);
          client.end(true);
          reject(new TedgeError('MQTT_CONNECT', `cannot connect to the MQTT broker at ${opts.host}:${opts.port}: no answer within ${opts.connectTimeoutMs} ms`));
        }, opts.connectTimeoutMs);
      }
    });
  }

  onMessage(handler: (msg: Message) => void): void {
    this.handler = handler;
    const early = this.early ?? [];
    this.early = undefined;
    for (const msg of early) handler(msg);
  }

  onConnectionChange(handler: (connected: boolean) => void): void {
    this.connectionHandlers.push(handler);
  }

  async subscribe(filters: readonly string[], qos: QoS = 1): Promise<void> {
    if (filters.length === 0) return;
    await this.client.subscribeAsync([...filters], { qos });
  }

  async unsubscribe(filters: readonly string[]): Promise<void> {
    if (filters.length === 0) return;
    await this.client.unsubscribeAsync([...filters]);
  }

  async publish(msg: Message): Promise<void> {
    await this.client.publishAsync(msg.topic, Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength), {
      qos: msg.qos ?? 1,
      retain: msg.retain ?? false,
    });
  }

  /** A clean DISCONNECT when connected; with the broker gone, waiting for in-flight acks would never end. */
  async close(): Promise<void> {
    await this.client.endAsync(!this.client.connected);
  }

  /** Ends without a DISCONNECT packet so the broker publishes the last will (tests of LWT). */
  async abort(): Promise<void> {
    await this.client.endAsync(true);
  }
}
