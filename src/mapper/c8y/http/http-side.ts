import { MqttBus } from '../../../bus/mqtt-bus';
import { errorMessage } from '../../../core/errors';
import { parseJsonObject } from '../../../core/json';
import { type Message, message, payloadText } from '../../../core/message';
import { errorsTopic } from '../../../core/topics';
import type { Logger } from '../../../log/logger';
import type { LocalBrokerOptions } from '../../../runtime/local-broker';
import type { Service } from '../../../runtime/service';
import { type UploadOutcome, type UploadRequest, httpInventoryUpdateTopic, parseUploadRequest } from '../operations';
import type { C8yHttpClient } from './c8y-client';
import { type DownloadDeps, downloadToFileTransfer } from './downloads';
import type { C8yEvents } from './events';
import type { FileTransferClient } from './file-transfer';
import type { IdentityCache } from './identity';
import type { JwtSource } from './jwt';
import type { C8yProxyServer } from './proxy-server';
import { serveUpload, uploadLocalFile } from './uploads';

export interface HttpSideDeps {
  readonly prefix: string;
  readonly topicRoot: string;
  readonly mqtt: LocalBrokerOptions & { readonly clientId: string };
  readonly client: C8yHttpClient;
  readonly events: C8yEvents;
  readonly identity: IdentityCache;
  readonly files: FileTransferClient;
  readonly proxy: C8yProxyServer;
  /** Undefined with basic auth. Its requests go out on `bus`, once it is connected. */
  readonly jwt: JwtSource | undefined;
  readonly bindJwt: (publish: (m: Message) => Promise<void>) => void;
  readonly download: Omit<DownloadDeps, 'client' | 'files'>;
  /** The converter's end of an upload: 506 with the binary URL (or 505), then the clear. */
  readonly uploadFinished: (request: UploadRequest, outcome: UploadOutcome) => Message[];
  readonly logger: Logger;
  readonly stop: AbortSignal;
}

/**
 * The mapper's Cumulocity HTTP side: the local proxy, and the local requests the converter leaves on
 * `<prefix>/http/...` (never bridged): `uploads/<xid>` (a file on the file transfer service → an event
 * with the file attached, then the operation's final status), `events/create/<xid>` (an event too
 * large for MQTT) and `inventory/update/<xid>` (a fragment PUT on the managed object: the legacy software list). Its own persistent MQTT session acknowledges a request only once served, so a
 * request taken by a mapper that then crashed is served after the restart.
 */
export class C8yHttpSide implements Service {
  readonly name = 'c8y-http';
  private bus: MqttBus | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: HttpSideDeps) {}

  async start(): Promise<void> {
    const { mqtt, prefix } = this.deps;
    try {
      await this.deps.proxy.start();
    } catch (e) {
      // Uploads and oversized events do not need the proxy: a port taken by another mapper (a profile,
      // a test) costs local clients the proxy, not the device its cloud connection.
      this.deps.logger.error({ error: errorMessage(e) }, 'the Cumulocity proxy is not available');
    }
    const bus = await MqttBus.connect({ ...mqtt, cleanSession: false, manualAck: true, signal: this.deps.stop });
    this.bus = bus;
    this.deps.bindJwt((m) => bus.publish(m));
    bus.onMessageWithAck((m, ack) => this.onMessage(m, ack));
    if (this.deps.jwt) await bus.subscribe([this.deps.jwt.responseTopic], 0);
    await bus.subscribe([`${prefix}/http/uploads/+`, `${prefix}/http/events/create/+`, httpInventoryUpdateTopic(prefix, '+')], 1);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
    await this.bus?.close();
    await this.deps.proxy.stop();
    this.deps.client.close();
  }

  /** Downloads a Cumulocity binary (or any URL) into the file transfer service; the URL of the file there. */
  downloadToFileTransfer(url: string, path: string): Promise<string> {
    return downloadToFileTransfer(url, path, { ...this.deps.download, client: this.deps.client, files: this.deps.files }, this.abort.signal);
  }

  /**
   * A local file (an operation's workflow log, for `c8y.operations.auto_log_upload`) attached to a new
   * event of `eventType` for the entity; the binary's URL on the tenant. Streamed.
   */
  uploadLocalFile(externalId: string, filePath: string, eventType: string, text: string, mimeType = 'text/plain'): Promise<string> {
    return uploadLocalFile(this.deps.events, { externalId, filePath, eventType, text, mimeType, time: new Date() }, this.abort.signal);
  }

  private onMessage(m: Message, ack: () => void): void {
    const { prefix, jwt } = this.deps;
    if (jwt && m.topic === jwt.responseTopic) {
      ack();
      jwt.onResponse(m);
      return;
    }
    const work = m.topic.startsWith(`${prefix}/http/uploads/`) ? this.upload(m) : m.topic.startsWith(httpInventoryUpdateTopic(prefix, '')) ? this.updateInventory(m) : this.createEvent(m);
    const tracked = work.then(ack, (e: unknown) => {
      // Not acknowledged: the broker gives it again to the next session.
      this.deps.logger.error({ topic: m.topic, error: errorMessage(e) }, 'HTTP request not served');
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async upload(m: Message): Promise<void> {
    let request: UploadRequest;
    try {
      request = parseUploadRequest(payloadText(m));
    } catch (e) {
      return this.reportError(m.topic, errorMessage(e));
    }
    const log = this.deps.logger;
    const outcome = await serveUpload(request, { events: this.deps.events, files: this.deps.files, now: () => new Date(), signal: this.abort.signal, warn: (l) => log.warn(l) });
    if (this.abort.signal.aborted) throw new Error('stopped while uploading');
    if (outcome.ok) log.info({ operation: request.operation, cmdId: request.cmdId }, 'file uploaded to Cumulocity');
    else log.warn({ operation: request.operation, cmdId: request.cmdId, reason: outcome.reason }, 'upload failed');
    await this.publishAll(this.deps.uploadFinished(request, outcome));
  }

  private async createEvent(m: Message): Promise<void> {
    const xid = m.topic.slice(`${this.deps.prefix}/http/events/create/`.length);
    try {
      await this.deps.events.createFromMqttPayload(xid, payloadText(m), this.abort.signal);
    } catch (e) {
      if (this.abort.signal.aborted) throw e;
      await this.reportError(m.topic, `the event could not be created over HTTP: ${errorMessage(e)}`);
    }
  }

  private async updateInventory(m: Message): Promise<void> {
    const xid = m.topic.slice(httpInventoryUpdateTopic(this.deps.prefix, '').length);
    try {
      const fragments = parseJsonObject(payloadText(m), 'an inventory update');
      const id = await this.deps.identity.internalId(xid, this.abort.signal);
      await this.deps.client.json('PUT', `/inventory/managedObjects/${encodeURIComponent(id)}`, fragments, this.abort.signal);
    } catch (e) {
      if (this.abort.signal.aborted) throw e;
      await this.reportError(m.topic, `the inventory could not be updated over HTTP: ${errorMessage(e)}`);
    }
  }

  private async reportError(topic: string, cause: string): Promise<void> {
    await this.publishAll([message(errorsTopic(this.deps.topicRoot), `Failed to convert a message on topic '${topic}': ${cause}`, { qos: 1 })]);
  }

  private async publishAll(msgs: readonly Message[]): Promise<void> {
    for (const msg of msgs) await this.bus?.publish(msg);
  }
}
