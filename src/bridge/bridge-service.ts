import type { Clock, Timers } from '../core/clock';
import { errorMessage } from '../core/errors';
import { type Message, type QoS, message } from '../core/message';
import type { Logger } from '../log/logger';
import type { Service } from '../runtime/service';
import { CloudLink, type BridgeBus } from './cloud-link';
import { EchoFilter } from './echo-filter';
import { healthPayload } from '../runtime/health';
import { type BridgeTopics, metricsPayload } from './status';
import type { Outbox } from './outbox/outbox';
import type { OutboxMessage, OutboxRecord } from './outbox/record';
import type { ReconnectPolicy } from './reconnect-policy';
import type { BridgeRule } from './rules';
import type { DeadLetterFile } from './dead-letter';
import { PoisonDetector } from './poison';
import { TopicMapper, subscriptions } from './topic-map';

export interface BridgeServiceDeps {
  /** `tedge-mapper-bridge-<prefix>`: the service name, its health entity and its local MQTT session. */
  readonly name: string;
  readonly rules: readonly BridgeRule[];
  /** Connected, with a persistent session, manual acks and `down` as last will on the health topic. */
  readonly local: BridgeBus;
  readonly connectCloud: (signal: AbortSignal) => Promise<BridgeBus>;
  readonly outbox: Outbox;
  readonly policy: ReconnectPolicy;
  readonly topics: BridgeTopics;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly pid: number;
  readonly timestampFormat: 'unix' | 'rfc-3339';
  /** Sent to the cloud after each (re)connect, ahead of the backlog: c8y `500` (pending operations). */
  readonly onConnect?: readonly OutboxMessage[];
  /** Records in flight to the cloud at most (thin-edge's built-in bridge uses 100). */
  readonly window?: number;
  /** Metrics are republished at most this often while they change. */
  readonly metricsIntervalMs?: number;
  /** The cloud's payload limit and the key that sets it: larger messages are refused before the outbox. */
  readonly maxPayload: { readonly bytes: number; readonly key: string };
  /** Where records the cloud refuses are moved (see poison.ts). */
  readonly deadLetters: DeadLetterFile;
}

/** Counters of the bridge itself; the outbox keeps its own. */
export interface BridgeCounters {
  /** Local messages the broker sent again (DUP): after our crash or reconnect, possibly already in the outbox. */
  localRedelivered: number;
  /** Cloud messages published locally. */
  received: number;
  /** Messages no rule maps (only possible with overlapping subscriptions); acknowledged and counted. */
  unmapped: number;
  /** Echoes of bidirectional rules, not bridged back. */
  echoes: number;
  connections: number;
  /** Local messages over the cloud's payload limit: acknowledged, not stored, reported on te/errors. */
  oversized: number;
}

/**
 * The built-in bridge of one cloud (§4.8), in the mapper process. Local → cloud: each message on a
 * bridged `<prefix>/…` topic goes into the durable outbox, and the local broker gets its PUBACK
 * only once it is there; the outbox is sent in order while the cloud is up, at most `window`
 * records in flight, each retired by the cloud's PUBACK. Cloud → local: published locally, then
 * acknowledged to the cloud. Health is `up` exactly while the cloud connection is up.
 */
export class BridgeService implements Service {
  readonly name: string;
  readonly counters: BridgeCounters = { localRedelivered: 0, received: 0, unmapped: 0, echoes: 0, connections: 0, oversized: 0 };
  private readonly mapper: TopicMapper;
  private readonly link: CloudLink;
  private readonly localEcho = new EchoFilter();
  private readonly cloudEcho = new EchoFilter();
  private cloud: BridgeBus | undefined;
  /** Bumped at each connect and disconnect: results of an older connection are ignored. */
  private generation = 0;
  /** Records sent on the current connection and not yet acknowledged, by sequence number. */
  private readonly sent = new Map<number, OutboxRecord>();
  private readonly poison = new PoisonDetector();
  private pumping = false;
  private metricsDue = false;
  private cancelMetrics: (() => void) | undefined;
  private lastDropped = 0;
  private stopped = false;

  constructor(private readonly deps: BridgeServiceDeps) {
    this.name = deps.name;
    this.mapper = new TopicMapper(deps.rules);
    this.link = new CloudLink({
      connect: deps.connectCloud,
      policy: deps.policy,
      clock: deps.clock,
      timers: deps.timers,
      logger: deps.logger,
      onUp: (cloud) => this.cloudUp(cloud),
      onDown: () => this.cloudDown(),
    });
  }

  get cloudConnected(): boolean {
    return this.cloud !== undefined;
  }

  async start(): Promise<void> {
    const { local, outbox, topics } = this.deps;
    local.onMessageWithAck((msg, ack, redelivered) => this.fromLocal(msg, ack, redelivered));
    local.onConnectionChange((connected) => {
      if (connected) this.publishStatus();
    });
    outbox.onAvailable(() => void this.pump());
    await this.publishHealth();
    for (const [qos, filters] of byQos(subscriptions(this.deps.rules, 'local'))) await local.subscribe(filters, qos);
    await local.subscribe(topics.healthChecks, 1);
    this.publishMetrics();
    this.link.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelMetrics?.();
    await this.link.stop();
    this.cloudDown();
    await this.deps.outbox.close();
    this.publishMetrics();
    // Best effort: with the local broker gone the QoS 1 publish would wait for ever, and a stop must end.
    if (!this.deps.local.isConnected) {
      await this.deps.local.close();
      return;
    }
    const down = this.deps.local.publish(message(this.deps.topics.health, healthPayload('down', this.deps.pid, this.deps.clock.now(), this.deps.timestampFormat), { qos: 1, retain: true }));
    await within(down.catch(() => {}), STATUS_DEADLINE_MS, this.deps.timers);
    await this.deps.local.close();
  }

  private fromLocal(msg: Message, ack: () => void, redelivered: boolean): void {
    if (redelivered) this.counters.localRedelivered++;
    if (this.deps.topics.healthChecks.includes(msg.topic)) {
      ack();
      void this.publishHealth().catch(() => {});
      return;
    }
    const mapped = this.mapper.toRemote(msg.topic);
    if (mapped === undefined) {
      this.counters.unmapped++;
      ack();
      return;
    }
    if (mapped.bidirectional && this.localEcho.isEcho(msg.topic, msg.payload)) {
      this.counters.echoes++;
      ack();
      return;
    }
    const { bytes, key } = this.deps.maxPayload;
    if (msg.payload.length > bytes) {
      // The cloud would close the connection over it (Cumulocity) or drop it: refused here, said once.
      this.counters.oversized++;
      ack();
      this.reportError(`A message on topic '${msg.topic}' is too large for the cloud: ${msg.payload.length} bytes, the limit is ${bytes} (${key}); not sent`);
      this.publishMetrics();
      return;
    }
    this.deps.outbox.append({ topic: mapped.topic, payload: msg.payload, qos: minQos(mapped.qos, msg.qos), retain: msg.retain ?? false }).then(
      () => {
        ack();
        this.noteChange();
      },
      // Only when stopping: not acknowledged, so the broker redelivers it to the next run.
      (err: unknown) => this.deps.logger.debug({ err: errorMessage(err), topic: msg.topic }, 'not stored: the bridge is stopping'),
    );
  }

  private fromCloud(msg: Message, ack: () => void): void {
    const mapped = this.mapper.toLocal(msg.topic);
    if (mapped === undefined) {
      this.counters.unmapped++;
      ack();
      return;
    }
    if (mapped.bidirectional) {
      if (this.cloudEcho.isEcho(msg.topic, msg.payload)) {
        this.counters.echoes++;
        ack();
        return;
      }
      this.localEcho.expect(mapped.topic, msg.payload);
    }
    // Acknowledged to the cloud only once the local broker has it: a crash in between means redelivery.
    this.deps.local.publish(message(mapped.topic, msg.payload, { qos: mapped.qos, retain: msg.retain ?? false })).then(
      () => {
        this.counters.received++;
        ack();
      },
      (err: unknown) => this.deps.logger.warn({ err: errorMessage(err), topic: mapped.topic }, 'cannot publish a cloud message locally'),
    );
  }

  private async cloudUp(cloud: BridgeBus): Promise<void> {
    cloud.onMessageWithAck((msg, ack) => this.fromCloud(msg, ack));
    // Nothing is sent before the subscriptions hold, so no answer to what we send can be missed.
    for (const [qos, filters] of byQos(subscriptions(this.deps.rules, 'remote'))) await cloud.subscribe(filters, qos);
    if (this.stopped || !this.link.isCurrent(cloud)) return; // lost while subscribing: the link retries
    this.generation++;
    this.cloud = cloud;
    this.counters.connections++;
    for (const m of this.deps.onConnect ?? []) {
      void cloud.publish(message(m.topic, m.payload, { qos: m.qos, retain: m.retain })).catch(() => {});
    }
    this.publishStatus();
    void this.pump();
  }

  private cloudDown(): void {
    const wasUp = this.cloud !== undefined;
    this.cloud = undefined;
    this.generation++;
    const refused = this.poison.lost([...this.sent.keys()]);
    if (refused !== undefined) this.moveAside(refused);
    this.sent.clear();
    this.deps.outbox.rewind();
    if (wasUp && !this.stopped) this.publishStatus();
  }

  /** The cloud closed the connection over record `seq` every time it was sent alone: kept aside, not resent. */
  private moveAside(seq: number): void {
    const record = this.sent.get(seq);
    if (record === undefined) return;
    const reason = 'the cloud closed the connection each time this message was sent';
    try {
      this.deps.deadLetters.add(record, reason, this.deps.clock.now());
    } catch (err) {
      this.deps.logger.error({ err: errorMessage(err), path: this.deps.deadLetters.path }, 'cannot write the dead-letter file: the refused message is dropped');
    }
    this.deps.outbox.remove(seq);
    this.poison.removed(seq);
    this.deps.logger.warn({ topic: record.topic, bytes: record.payload.length, file: this.deps.deadLetters.path }, 'message refused by the cloud moved to the dead-letter file');
    this.reportError(`A message on topic '${record.topic}' (${record.payload.length} bytes) was refused by the cloud: ${reason}; moved to ${this.deps.deadLetters.path}`);
  }

  private reportError(text: string): void {
    void this.deps.local.publish(message(this.deps.topics.errors, text, { qos: 1 })).catch(() => {});
  }

  /** Sends the outbox in order while the cloud is up, keeping at most `window` records in flight. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const window = this.poison.window(this.deps.window ?? 100);
        if (this.cloud === undefined || this.sent.size >= window) break;
        const cloud = this.cloud;
        const generation = this.generation;
        const records = await this.deps.outbox.take(window - this.sent.size);
        if (generation !== this.generation) {
          this.deps.outbox.rewind(); // taken across a disconnect: put back
          continue;
        }
        if (records.length === 0) break;
        for (const r of records) this.send(cloud, generation, r);
      }
    } catch (err) {
      this.deps.logger.error({ err: errorMessage(err) }, 'cannot read the outbox');
    } finally {
      this.pumping = false;
    }
  }

  private send(cloud: BridgeBus, generation: number, r: OutboxRecord): void {
    this.sent.set(r.seq, r);
    if (this.mapper.toLocal(r.topic)?.bidirectional) this.cloudEcho.expect(r.topic, r.payload);
    cloud.publish(message(r.topic, r.payload, { qos: r.qos, retain: r.retain })).then(
      () => {
        if (generation !== this.generation) return;
        this.sent.delete(r.seq);
        this.poison.delivered(r.seq);
        this.deps.outbox.ack(r.seq);
        this.noteChange();
        // Refill once a tenth of the window is free: the window stays nearly full, and each outbox read
        // (usually from the block already read) hands out several records.
        if (this.sent.size <= this.poison.window(this.deps.window ?? 100) * 0.9) void this.pump();
      },
      // The connection broke: cloudDown rewinds the outbox, and the record goes again.
      () => {},
    );
  }

  private publishStatus(): void {
    void this.publishHealth().catch(() => {});
    this.publishMetrics();
  }

  private publishHealth(): Promise<void> {
    const status = this.cloud !== undefined ? 'up' : 'down';
    const payload = healthPayload(status, this.deps.pid, this.deps.clock.now(), this.deps.timestampFormat);
    return this.deps.local.publish(message(this.deps.topics.health, payload, { qos: 1, retain: true }));
  }

  /** Metrics change with every message: published at once after a drop, else at most once per interval. */
  private noteChange(): void {
    const dropped = this.deps.outbox.droppedRecords;
    if (dropped !== this.lastDropped) {
      this.publishMetrics();
      return;
    }
    if (this.metricsDue || this.stopped) return;
    this.metricsDue = true;
    this.cancelMetrics = this.deps.timers.after(this.deps.metricsIntervalMs ?? 5000, () => this.publishMetrics());
  }

  private publishMetrics(): void {
    this.cancelMetrics?.();
    this.cancelMetrics = undefined;
    this.metricsDue = false;
    const stats = this.deps.outbox.stats;
    this.lastDropped = stats.droppedRecords;
    const payload = metricsPayload(stats, this.counters, this.cloud !== undefined, this.deps.clock.now(), this.deps.timestampFormat);
    void this.deps.local.publish(message(this.deps.topics.metrics, payload, { qos: 1, retain: true })).catch(() => {});
  }
}

/** How long a stop waits for the broker to take the final status. */
const STATUS_DEADLINE_MS = 2000;

/** Resolves when `work` does or after `ms`, whichever comes first. */
function within(work: Promise<void>, ms: number, timers: Timers): Promise<void> {
  let cancel = (): void => {};
  const late = new Promise<void>((resolve) => (cancel = timers.after(ms, resolve)));
  return Promise.race([work, late]).finally(cancel);
}

function minQos(a: QoS, b: QoS | undefined): QoS {
  return (b === undefined ? a : Math.min(a, b)) as QoS;
}

/** One SUBSCRIBE per QoS rather than one per filter. */
function byQos(filters: ReadonlyMap<string, QoS>): Map<QoS, string[]> {
  const out = new Map<QoS, string[]>();
  for (const [filter, qos] of filters) out.set(qos, [...(out.get(qos) ?? []), filter]);
  return out;
}
