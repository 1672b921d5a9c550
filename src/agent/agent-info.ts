import type { Bus } from '../bus/bus';
import { message } from '../core/message';
import { type EntityTopicId, topicFor } from '../core/topics';
import type { Service } from '../runtime/service';
import { tedgeVersion } from '../runtime/version';

export const AGENT_NAME = 'tedge-ts';
export const AGENT_URL = 'https://thin-edge.io';

/** The version of tedge-ts (baked into the single executable, else from package.json). */
export function agentVersion(): string {
  return tedgeVersion();
}

export interface AgentInfoOptions {
  readonly topicRoot: string;
  /** The device the agent runs on (mqtt.device_topic_id). */
  readonly device: EntityTopicId;
  /** The agent's own service entity, e.g. device/main/service/tedge-agent. */
  readonly service: EntityTopicId;
  readonly serviceType: string;
  readonly version: string;
  /**
   * Filters to subscribe for health checks when no other service of this agent subscribes to them
   * (the entity service's `te/+/+/+/+/#` already covers them; a second, overlapping subscription
   * would make mosquitto deliver every check twice).
   */
  readonly extraFilters: readonly string[];
}

/**
 * What the agent says about itself at start: its service registration (so it exists even with
 * auto-registration off, and before its first health message) and `te/<device>/twin/agent`.
 */
export class AgentInfo implements Service {
  readonly name = 'agent-info';

  constructor(
    private readonly bus: Bus,
    private readonly opts: AgentInfoOptions,
  ) {}

  async start(): Promise<void> {
    const { topicRoot, device, service, serviceType, version, extraFilters } = this.opts;
    if (extraFilters.length > 0) await this.bus.subscribe(extraFilters, 1);
    const registration = { '@type': 'service', '@parent': device, name: 'tedge-agent', type: serviceType };
    await this.bus.publish(message(topicFor(service, { kind: 'registration' }, topicRoot), JSON.stringify(registration), { qos: 1, retain: true }));
    const twin = { name: AGENT_NAME, url: AGENT_URL, version };
    await this.bus.publish(message(topicFor(device, { kind: 'twin', fragment: 'agent' }, topicRoot), JSON.stringify(twin), { qos: 1, retain: true }));
  }

  async stop(): Promise<void> {}
}
