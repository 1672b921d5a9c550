import { errorsTopic, serviceTopicId, topicFor } from '../core/topics';
import { statusTimestamp } from '../runtime/health';
import type { BridgeCounters } from './bridge-service';
import type { OutboxStats } from './outbox/outbox';

/** The local topics the bridge reports on (§1.2, §1.4). */
export interface BridgeTopics {
  /** `te/device/main/service/tedge-mapper-bridge-<prefix>/status/health`, retained, `down` as last will. */
  readonly health: string;
  /** `…/status/metrics/outbox`, retained: the outbox's size, drops and duplicates. */
  readonly metrics: string;
  /** `cmd/health/check` on the service and on its device: answered with the health. */
  readonly healthChecks: readonly string[];
  /** `<root>/errors`: messages refused for the cloud are reported there, as the mappers' conversion errors. */
  readonly errors: string;
}

export function bridgeTopics(root: string, device: string, service: string): BridgeTopics {
  const entity = serviceTopicId(device, service);
  const check = { kind: 'command', operation: 'health', cmdId: 'check' } as const;
  return {
    health: topicFor(entity, { kind: 'health' }, root),
    metrics: topicFor(entity, { kind: 'metrics', name: 'outbox' }, root),
    healthChecks: [topicFor(entity, check, root), topicFor(`device/${device}//`, check, root)],
    errors: errorsTopic(root),
  };
}

/**
 * The outbox metrics: pending_* are current; the other counts run since the mapper started.
 * possible_duplicates bounds what a crash may have made the cloud receive twice: records recovered
 * at start (some were in flight) plus local messages the broker redelivered (some were stored).
 */
export function metricsPayload(s: OutboxStats, c: BridgeCounters, connected: boolean, now: Date, format: 'unix' | 'rfc-3339'): string {
  return JSON.stringify({
    connected,
    pending_messages: s.pendingRecords,
    pending_bytes: s.pendingBytes,
    max_bytes: s.maxBytes,
    stored_messages: s.appended,
    delivered_messages: s.delivered,
    dropped_messages: s.droppedRecords,
    dropped_bytes: s.droppedBytes,
    refused_messages: s.refusedRecords,
    oversized_messages: c.oversized,
    recovered_messages: s.recoveredRecords,
    local_redelivered_messages: c.localRedelivered,
    possible_duplicates: s.recoveredRecords + c.localRedelivered,
    corrupt_records: s.corruptRecords,
    torn_bytes: s.tornBytes,
    write_errors: s.writeErrors,
    received_messages: c.received,
    connections: c.connections,
    time: statusTimestamp(now, format),
  });
}
