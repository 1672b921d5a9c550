import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBus } from '../../../src/bus/mqtt-bus';
import { message } from '../../../src/core/message';
import { freePort } from '../mosquitto';
import { SimBroker } from './broker';
import { C8yBehaviour, CLOUD_TO_DEVICE, type SimMessage } from './c8y-behaviour';
import { SimHttp } from './http';
import { SimPki } from './pki';

export type { SimMessage } from './c8y-behaviour';

export interface CloudSimOptions {
  /** Where the CA, certificates and broker files go; a new temp dir by default (removed by stop). */
  readonly dir?: string;
  /** Serve the HTTP side over TLS with the simulator's server certificate, as Cumulocity does (default true). */
  readonly httpTls?: boolean;
  /** Keep every device message in `received` (default true; a benchmark counts instead). */
  readonly record?: boolean;
  readonly mqttPort?: number;
  readonly httpPort?: number;
  /** Extra mosquitto.conf lines of the cloud's broker, e.g. `max_packet_size 16384` (Cumulocity's MQTT limit). */
  readonly brokerConfig?: string;
}

let instances = 0;

/**
 * A local stand-in for Cumulocity: an mTLS MQTT endpoint with its own CA that answers what the
 * tenant answers a device (100, 71, 500 and operations as JSON notifications), an HTTP side for
 * binaries, and a record of everything the device sent. Used by tests, the benchmark and the demo.
 *
 * @example
 *   const sim = await CloudSimulator.start();
 *   sim.issueDeviceCertificate('dev1', certPath, keyPath);
 *   // device config: c8y.url=127.0.0.1, c8y.mqtt=sim.mqttEndpoint, c8y.root_cert_path=sim.caPath
 *   await sim.waitFor((m) => m.topic === 's/us', 'a SmartREST message');
 */
export class CloudSimulator {
  readonly received: SimMessage[] = [];
  private listeners: Array<(m: SimMessage) => void> = [];
  private waiters: Array<() => void> = [];
  private client: MqttBus | undefined;
  private count = 0;

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly pki: SimPki,
    readonly broker: SimBroker,
    readonly http: SimHttp,
    readonly httpPort: number,
    private readonly httpTls: boolean,
    private readonly record: boolean,
    readonly c8y: C8yBehaviour,
  ) {}

  static async start(opts: CloudSimOptions = {}): Promise<CloudSimulator> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tedge-cloud-sim-'));
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755); // mosquitto, started as root, reads its files as user `mosquitto`
    const pki = SimPki.create(join(dir, 'pki'));
    const db = join(dir, 'db');
    mkdirSync(db, { recursive: true });
    chmodSync(db, 0o777);
    const broker = new SimBroker(dir, opts.mqttPort ?? (await freePort()), await freePort(), pki, opts.brokerConfig ?? '');
    const httpPort = opts.httpPort ?? (await freePort());
    const httpTls = opts.httpTls ?? true;
    const behaviour: C8yBehaviour = new C8yBehaviour({ tenantHost: '127.0.0.1', deviceId: () => behaviour.devices[0]?.id });
    const sim: CloudSimulator = new CloudSimulator(dir, ownsDir, pki, broker, new SimHttp(() => sim.httpBaseUrl, { validTokens: behaviour.validTokens, identities: behaviour.identities, trust: (pem) => sim.trustCertificate(pem), signCsr: (pem) => pki.signCsr(pem) }), httpPort, httpTls, opts.record ?? true, behaviour);
    // A waiter may wait for what a REST request changes (an inventory PUT): checked once the request is handled.
    sim.http.onRequest(() => setImmediate(() => sim.waiters.forEach((w) => w())));
    await broker.start();
    await sim.http.start(httpPort, httpTls ? { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) } : undefined);
    await sim.connectCloudSide();
    return sim;
  }

  /**
   * The simulator's own client, on the plain listener. A persistent session on a broker with
   * persistence, so nothing the device sends right after an outage is missed while it reconnects.
   */
  private async connectCloudSide(): Promise<void> {
    const client = await MqttBus.connect({ host: '127.0.0.1', port: this.broker.adminPort, clientId: `cloud-sim-${process.pid}-${instances++}`, cleanSession: false, reconnectPeriodMs: 50, connectTimeoutMs: 10_000 });
    this.client = client;
    client.onMessage((m) => {
      if (CLOUD_TO_DEVICE.has(m.topic)) return; // our own answers
      const msg = { topic: m.topic, payload: Buffer.from(m.payload).toString('utf8') };
      this.count++;
      if (this.record) this.received.push(msg);
      for (const l of this.listeners) l(msg);
      for (const reply of this.c8y.handle(msg)) void this.publish(reply.topic, reply.payload);
      for (const w of this.waiters) w();
    });
    await client.subscribe(['#'], 1);
  }

  get caPath(): string {
    return this.pki.caCert;
  }

  get mqttPort(): number {
    return this.broker.tlsPort;
  }

  /** `c8y.mqtt` of a device using this simulator. */
  get mqttEndpoint(): string {
    return `127.0.0.1:${this.broker.tlsPort}`;
  }

  /** `c8y.http` of a device using this simulator. */
  get httpEndpoint(): string {
    return `127.0.0.1:${this.httpPort}`;
  }

  get httpBaseUrl(): string {
    return `${this.httpTls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`;
  }

  /** Device messages seen so far (also when `record` is off). */
  get messageCount(): number {
    return this.count;
  }

  /** The TEDGE_* environment of a device that uses this simulator as its Cumulocity tenant. */
  deviceEnv(): Record<string, string> {
    return { TEDGE_C8Y_URL: '127.0.0.1', TEDGE_C8Y_MQTT: this.mqttEndpoint, TEDGE_C8Y_HTTP: this.httpEndpoint, TEDGE_C8Y_ROOT_CERT_PATH: this.caPath };
  }

  issueDeviceCertificate(deviceId: string, certPath: string, keyPath: string): void {
    this.pki.issueDeviceCertificate(deviceId, certPath, keyPath);
  }

  signCsr(csrPem: string): string {
    return this.pki.signCsr(csrPem);
  }

  /** Trusts a self-signed device certificate, like `tedge cert upload c8y`; restarts the broker to load it. */
  async trustCertificate(certPem: string): Promise<void> {
    this.pki.trust(certPem);
    if (this.broker.running) {
      await this.broker.stop();
      await this.broker.start();
    }
  }

  /** A cloud outage: every device connection drops and new ones are refused. */
  stopBroker(): Promise<void> {
    return this.broker.stop();
  }

  startBroker(): Promise<void> {
    return this.broker.start();
  }

  onDeviceMessage(listener: (m: SimMessage) => void): void {
    this.listeners.push(listener);
  }

  /** Raw cloud → device message, e.g. on s/ds. */
  async publish(topic: string, payload: string): Promise<void> {
    await this.client?.publish(message(topic, payload, { qos: 1 }));
  }

  /**
   * Creates a PENDING operation and notifies the device now, as Cumulocity does for a connected
   * device; a device that misses it gets it with its next 500. Returns the operation id.
   */
  async createOperation(fragments: Record<string, unknown>, externalId?: string): Promise<string> {
    const target = externalId ?? this.c8y.devices[0]?.id;
    if (target === undefined) throw new Error('createOperation: no device known; pass its external id');
    const { id, notification } = this.c8y.createOperation(fragments, target);
    await this.publish(notification.topic, notification.payload);
    return id;
  }

  /** The fragments the device PUT over REST on the managed object of an external id (e.g. c8y_SoftwareList). */
  managedObject(externalId: string): Record<string, unknown> | undefined {
    const id = this.c8y.identities.get(externalId);
    return id === undefined ? undefined : this.http.managedObjects.get(id);
  }

  /** Payloads the device sent on `topic`, in order. */
  messages(topic: string): string[] {
    return this.received.filter((m) => m.topic === topic).map((m) => m.payload);
  }

  async waitFor(predicate: (received: readonly SimMessage[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (predicate(this.received)) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.received)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const tail = this.received.slice(-20).map((m) => `[${m.topic}] ${m.payload.slice(0, 200)}`);
        reject(new Error(`cloud simulator: timed out waiting for ${what}; ${this.received.length} messages, the last ones:\n  ${tail.join('\n  ')}`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  async stop(): Promise<void> {
    await this.client?.abort().catch(() => {});
    await this.http.stop();
    await this.broker.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
