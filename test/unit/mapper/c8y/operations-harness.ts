import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { EntityRegistration } from '../../../../src/core/entity';
import { isConversionError } from '../../../../src/core/errors';
import { type Message, formatLine, parseLine, payloadText } from '../../../../src/core/message';
import { parseTopic } from '../../../../src/core/topics';
import { C8yEntityCache } from '../../../../src/mapper/c8y/entity-cache';
import { C8yOperations, type OperationsOptions } from '../../../../src/mapper/c8y/operations';

/** Shared fixture for the operations tables: main device `test-device`, tenant host `test.c8y.io`. */
export const CLOUD_TOPIC = 'c8y/devicecontrol/notifications';
export const SMARTREST_TOPIC = 'c8y/s/ds';
export const SYNC_TOPIC = 'te/device/main/service/tedge-mapper-c8y/signal/sync';

export function testOptions(over: Partial<OperationsOptions> = {}): OperationsOptions {
  let n = 0;
  return {
    prefix: 'c8y',
    topicRoot: 'te',
    useOperationId: true,
    enabled: () => true,
    fileTransferBase: 'http://127.0.0.1:8000/te/v1/files',
    c8yProxyBase: 'http://127.0.0.1:8001/c8y',
    c8yHost: 'test.c8y.io',
    newCommandId: () => `c8y-mapper-list-${++n}`,
    ...over,
  };
}

/** Child devices and services the rows can address; each row registers the ones it names. */
export const ENTITIES: Readonly<Record<string, EntityRegistration>> = {
  child1: { topicId: 'device/child1//', type: 'child-device', parent: 'device/main//', twin: {} },
  nested: { topicId: 'device/nested//', type: 'child-device', parent: 'device/child1//', twin: {} },
  child01: { topicId: 'device/child01//', type: 'child-device', parent: 'device/main//', externalId: 'child01', twin: {} },
  service: { topicId: 'device/main/service/foo', type: 'service', parent: 'device/main//', twin: {} },
};

export function setup(opts: Partial<OperationsOptions> = {}, entities: readonly string[] = []): { cache: C8yEntityCache; ops: C8yOperations } {
  const cache = new C8yEntityCache('test-device');
  for (const name of entities) {
    const e = ENTITIES[name];
    if (e === undefined) throw new Error(`no test entity ${name}`);
    cache.add(e);
  }
  return { cache, ops: new C8yOperations(cache, testOptions(opts)) };
}

/** Routes one `[topic] payload` line to the method the dispatcher would call. */
export function feed(ops: C8yOperations, line: string): Message[] {
  const input = parseLine(line);
  const text = payloadText(input);
  if (input.topic === CLOUD_TOPIC) return ops.onCloudOperation(text);
  if (input.topic === SMARTREST_TOPIC) return ops.onSmartrest(text);
  if (input.topic === SYNC_TOPIC) return ops.sync();
  const parsed = parseTopic(input.topic);
  switch (parsed?.channel.kind) {
    case 'command-capability':
      return ops.onCapability(parsed.entity, parsed.channel.operation, text);
    case 'command':
      return ops.onCommand(parsed.entity, parsed.channel.operation, parsed.channel.cmdId, text);
    default:
      throw new Error(`the harness does not route ${input.topic}`);
  }
}

/**
 * Every command and twin message is retained (§1.5: commands are retained state); nothing else is.
 * Checked on every output of every row, so the tables need not spell the flags out.
 */
export function assertFlags(out: readonly Message[]): void {
  for (const m of out) {
    const retained = m.topic.startsWith('te/') && m.topic !== 'te/errors';
    assert.equal(m.retain === true, retained, `retain flag of ${formatLine(m)}`);
    assert.equal(m.qos, 1, `qos of ${formatLine(m)}`);
  }
}

export interface Row {
  readonly name: string;
  readonly options?: Partial<OperationsOptions>;
  readonly entities?: readonly string[];
  /** Input lines, fed in order to one C8yOperations. */
  readonly input: readonly string[];
  /** All output lines of all inputs, in order. */
  readonly expected: readonly string[];
  /** The last input must throw a ConversionError whose message matches. */
  readonly throws?: RegExp;
}

export function table(rows: readonly Row[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const { ops } = setup(row.options, row.entities);
      const inputs = row.throws ? row.input.slice(0, -1) : row.input;
      const out = inputs.flatMap((line) => feed(ops, line));
      assertFlags(out);
      assert.deepEqual(out.map(formatLine), row.expected);
      const last = row.input[row.input.length - 1];
      if (row.throws && last !== undefined) {
        const cause = row.throws;
        assert.throws(() => feed(ops, last), (e: unknown) => isConversionError(e) && cause.test(e.message));
      }
    });
  }
}

/** A Cumulocity operation line for `c8y/devicecontrol/notifications`. */
export function cloudOp(xid: string, id: string, fragments: Record<string, unknown>): string {
  return `[${CLOUD_TOPIC}] ${JSON.stringify({ id, status: 'PENDING', ...fragments, externalSource: { externalId: xid, type: 'c8y_Serial' } })}`;
}
