import { isIP, type Socket } from 'node:net';
import * as tls from 'node:tls';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TedgeError } from '../core/errors';
import type { Message, QoS } from '../core/message';
import type { AckingHandler, Bus, LastWill } from './bus';

export interface MqttBusOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  /** false for daemons: the broker keeps their QoS 1 subscriptions and queues while they are down. */
  readonly cleanSession: boolean;
  readonly will?: LastWill;
  /** Daemons retry forever; the CLI fails after this long with one clear line. */
  readonly connectTimeoutMs?: number;
  /** 0: no automatic reconnect; the owner retries with its own policy (the built-in bridge's back-off). */
  readonly reconnectPeriodMs?: number;
  readonly keepaliveSeconds?: number;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly username?: string;
  readonly password?: string;
  /**
   * Inbound QoS 1 messages get their PUBACK only when the consumer calls `ack` (onMessageWithAck),
   * so the broker keeps and redelivers what a crashed consumer did not secure.
   */
  readonly manualAck?: boolean;
  /** Aborts the attempt (a stop during a TLS handshake that never completes must not wait for the timeout). */
  readonly signal?: AbortSignal;
  /**
   * A socket already connected towards the broker (an HTTP CONNECT tunnel through `proxy.address`), on
   * which TLS with the broker starts. One connection only: the owner reconnects (reconnectPeriodMs 0).
   */
  readonly openSocket?: (signal?: AbortSignal) => Promise<Socket>;
}

/**
 * MQTT.js has no public "ack later": its customHandleAcks hook holds the whole packet pump until it
 * answers, which would serialise one fsync per message. Answering with an error makes MQTT.js skip
 * the PUBACK and go on; we send the PUBACK ourselves later. One shared instance, recognised by identity.
 */
const DEFERRED_ACK = new Error('PUBACK deferred to the consumer');

/** The private MQTT.js method that writes a packet; checked at construction so an upgrade fails loudly. */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, cb: () => void): void;
}

interface Pending {
  readonly msg: Message;
  readonly ack: () => void;
  readonly redelivered: boolean;
}

const noop = (): void => {};

/** The MQTT.js adapter: the only file that imports `mqtt`. */
export class MqttBus implements Bus {
  /**
   * Messages that arrive before `onMessage` is called: with cleanSession=false the broker sends the
   * messages it queued for us right after CONNACK, possibly in the same chunk, before the caller of
   * `connect()` could register its handler.
   */
  private early: Pending[] | undefined = [];
  private handler: AckingHandler = (msg, ack, redelivered) => this.early?.push({ msg, ack, redelivered });
  private readonly connectionHandlers: Array<(connected: boolean) => void> = [];
  private connected = false;

  private constructor(
    private readonly client: MqttClient,
    manualAck: boolean,
  ) {
    client.on('message', (topic, payload, packet) => {
      // Already acknowledged by MQTT.js (QoS 0 and 2, or QoS 1 without manualAck).
      this.handler({ topic, payload, qos: packet.qos as QoS, retain: packet.retain }, noop, packet.dup);
    });
    if (manualAck) this.deferAcks();
    client.on('connect', () => this.setConnected(true));
    // 'offline' comes when MQTT.js will reconnect by itself, 'close' in every case (also without reconnect).
    client.on('offline', () => this.setConnected(false));
    client.on('close', () => this.setConnected(false));
    // MQTT.js reports socket, connack and keepalive failures as 'error' events and then reconnects by
    // itself; an 'error' event without a listener throws, which would crash a daemon over a broker restart.
    client.on('error', () => {});
  }

  private setConnected(connected: boolean): void {
    if (connected === this.connected) return;
    this.connected = connected;
    for (const h of this.connectionHandlers) h(connected);
  }

  /** QoS 1 inbound: hand the message over with an `ack` that sends the PUBACK, and let the pump go on. */
  private deferAcks(): void {
    const sender = this.client as unknown as Partial<PacketSender>;
    if (typeof sender._sendPacket !== 'function') throw new Error('this MQTT.js version does not support deferred PUBACKs');
    const send = sender._sendPacket.bind(this.client);
    this.client.options.customHandleAcks = (topic: string, payload: Buffer, packet: IPublishPacket, done: (error: Error | number, code?: number) => void) => {
      const messageId = packet.messageId;
      if (packet.qos !== 1 || messageId === undefined) {
        done(0); // QoS 2: MQTT.js runs the PUBREC/PUBREL exchange and emits 'message'
        return;
      }
      // The connection is the socket the message came on. Not a counter bumped on 'connect': MQTT.js
      // emits 'connect' only after it has resent its own unacknowledged publishes, and the broker's
      // redeliveries arrive before that, so they would be tagged with the old connection and their
      // PUBACKs withheld for ever, filling the broker's in-flight window (nothing delivered after a
      // broker restart).
      const stream = this.client.stream;
      let acked = false;
      const ack = (): void => {
        // Once; and after a reconnect the broker redelivers the message itself, so an old PUBACK would be
        // stale (or, its message id reused, acknowledge another message).
        if (acked) return;
        acked = true;
        if (stream === this.client.stream && this.client.connected) send({ cmd: 'puback', messageId }, noop);
      };
      this.handler({ topic, payload, qos: 1, retain: packet.retain }, ack, packet.dup);
      done(DEFERRED_ACK);
    };
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
      // mqtt-packet's default pre-builds 65,536 two-byte Buffers for message ids: 6 MB of heap in every
      // process, for a saving of one 2-byte allocation per QoS 1 packet.
      writeCache: false,
    };
    if (opts.will) options.will = { ...opts.will };
    if (opts.tls) Object.assign(options, opts.tls);
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    if (opts.openSocket) return MqttBus.connectOver(opts.openSocket, options, opts);
    return MqttBus.started(mqtt.connect(options), opts);
  }

  /** MQTT over a socket the caller opened (a proxy tunnel): TLS with the broker on it, as MQTT.js's mqtts does. */
  private static async connectOver(open: (signal?: AbortSignal) => Promise<Socket>, options: IClientOptions, opts: MqttBusOptions): Promise<MqttBus> {
    let socket: Socket;
    try {
      socket = await open(opts.signal);
    } catch (e) {
      throw new TedgeError('MQTT_CONNECT', `cannot connect to the MQTT broker at ${opts.host}:${opts.port}: ${(e as Error).message}`, { cause: e });
    }
    const stream = (client: MqttClient): tls.TLSSocket | Socket => {
      if (!opts.tls) return socket;
      const secure = tls.connect({ ...opts.tls, socket, rejectUnauthorized: true, ...(isIP(opts.host) === 0 ? { servername: opts.host } : {}) });
      const onTlsError = (err: Error): void => {
        client.emit('error', err);
        secure.end();
      };
      secure.on('error', onTlsError);
      secure.once('secureConnect', () => secure.off('error', onTlsError));
      return secure;
    };
    return MqttBus.started(new mqtt.MqttClient(stream, { ...options, reconnectPeriod: 0 }), { ...opts, reconnectPeriodMs: 0 });
  }

  /** Resolves once the broker accepted the session of `client`; fails as `connect` documents. */
  private static started(client: MqttClient, opts: MqttBusOptions): Promise<MqttBus> {
    const bus = new MqttBus(client, opts.manualAck ?? false);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
      };
      const onConnect = (): void => {
        cleanup();
        resolve(bus);
      };
      const fail = (reason: string, cause?: Error): void => {
        cleanup();
        client.removeListener('connect', onConnect);
        client.end(true);
        reject(new TedgeError('MQTT_CONNECT', `cannot connect to the MQTT broker at ${opts.host}:${opts.port}: ${reason}`, { cause }));
      };
      const onError = (err: Error): void => {
        if (err === DEFERRED_ACK || opts.connectTimeoutMs === undefined) return; // daemons: keep retrying
        fail(err.message, err);
      };
      // Without automatic reconnects a refused session ends in 'close', possibly with no 'error'.
      const onClose = (): void => {
        if (opts.reconnectPeriodMs === 0) fail('the connection was closed');
      };
      const onAbort = (): void => fail('the attempt was abandoned');
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      client.once('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
      if (opts.connectTimeoutMs !== undefined) {
        timer = setTimeout(() => fail(`no answer within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
      }
    });
  }

  /** Plain consumers: with manualAck the message is acknowledged as soon as the handler returns. */
  onMessage(handler: (msg: Message) => void): void {
    this.onMessageWithAck((msg, ack) => {
      handler(msg);
      ack();
    });
  }

  /** The consumer acknowledges each message (see MqttBusOptions.manualAck); without manualAck `ack` is a no-op. */
  onMessageWithAck(handler: AckingHandler): void {
    this.handler = handler;
    const early = this.early ?? [];
    this.early = undefined;
    for (const p of early) handler(p.msg, p.ack, p.redelivered);
  }

  get isConnected(): boolean {
    return this.connected;
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

  /**
   * A clean DISCONNECT when connected; with the broker gone, waiting for in-flight acks would never end,
   * and a broker that stops answering must not hold a stop up longer than `deadlineMs` either.
   */
  async close(deadlineMs = 2000): Promise<void> {
    if (!this.client.connected) {
      await this.client.endAsync(true);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    const result = await Promise.race([this.client.endAsync(false).then(() => 'closed' as const), late]);
    clearTimeout(timer);
    if (result === 'late') await this.client.endAsync(true);
  }

  /** Ends without a DISCONNECT packet so the broker publishes the last will (tests of LWT). */
  async abort(): Promise<void> {
    await this.client.endAsync(true);
  }
}
