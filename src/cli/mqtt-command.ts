import { type Command, InvalidArgumentError, Option } from 'commander';
import { MqttBus } from '../bus/mqtt-bus';
import { isValidFilter, isValidTopicName } from '../bus/topic-filter';
import { durationMs } from '../config/value-types';
import { TedgeError } from '../core/errors';
import { type Message, message, type QoS } from '../core/message';
import type { CommandContext } from './context';
import { localBrokerOptions } from '../runtime/local-broker';

/** The CLI must not hang on a dead broker (daemons retry forever; a user at a prompt does not). thin-edge's default. */
const DEFAULT_CONNECTION_TIMEOUT = '10s';

interface ConnectionOptions {
  qos: QoS;
  /** 0: wait for the broker for ever (thin-edge: `0`, `0s`, `0ms`). */
  connectionTimeout: number;
}

interface PubOptions extends ConnectionOptions {
  retain?: boolean;
  base64?: boolean;
  repeat?: number;
  sleep: number;
}

interface SubOptions extends ConnectionOptions {
  /** 0: no limit, as thin-edge. */
  count?: number;
  duration?: number;
  topic: boolean;
  base64?: boolean;
  retainedOnly?: boolean;
}

/** A payload as `tedge mqtt sub` prints it: thin-edge's `<ERR=NON-UTF8> <base64>` for bytes that are not UTF-8. */
export function printablePayload(payload: Uint8Array, base64: boolean): string {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (base64) return bytes.toString('base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `<ERR=NON-UTF8> ${bytes.toString('base64')}`;
  }
}

/** `--base64` on pub: strict standard base64 (padding included), as thin-edge decodes it. */
export function decodeBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TedgeError('INVALID_PAYLOAD', `--base64: the message is not valid base64: '${text}'`);
  return Buffer.from(text, 'base64');
}

/** `tedge mqtt pub|sub` on the local broker at mqtt.client.host:mqtt.client.port. */
export function registerMqttCommand(program: Command, context: () => CommandContext): void {
  const mqtt = program.command('mqtt').description('publish and subscribe on the local MQTT bus');

  mqtt
    .command('pub')
    .description('publish one message')
    .argument('<topic>', 'topic name (no wildcards)')
    .argument('<payload>', 'message payload')
    .addOption(qosOption('1'))
    .option('-r, --retain', 'ask the broker to retain the message')
    .option('--base64', 'the message is base64: publish the bytes it decodes to')
    .addOption(new Option('--repeat <n>', 'publish the message N times (0: until Ctrl-C)').argParser(count))
    .addOption(new Option('--sleep <duration>', 'pause between repeated messages (60s, 1h, ...)').default(durationMs('1s'), '1s').argParser(duration))
    .addOption(timeoutOption())
    .action(async (topic: string, payload: string, opts: PubOptions) => {
      if (!isValidTopicName(topic)) throw new TedgeError('INVALID_TOPIC', `invalid topic name '${topic}': a topic to publish on must be non-empty and contain no '+' or '#'`);
      const bytes = opts.base64 === true ? decodeBase64(payload) : payload;
      const ctx = context();
      const bus = await connect(ctx, 'pub', opts);
      if (bus === undefined) return;
      try {
        const times = opts.repeat ?? 1;
        for (let i = 0; times === 0 || i < times; i++) {
          if (i > 0 && !(await pause(opts.sleep, ctx.signal))) break;
          await bus.publish(message(topic, bytes, { qos: opts.qos, retain: opts.retain ?? false }));
        }
      } finally {
        await bus.close();
      }
    });

  mqtt
    .command('sub')
    .description('print messages as "[topic] payload" lines until Ctrl-C, --count or --duration')
    .argument('<filter>', "topic filter; '+' and '#' wildcards allowed")
    .addOption(qosOption('0'))
    .addOption(new Option('-C, --count <n>', 'exit after receiving N messages (0: no limit)').argParser(count))
    .addOption(new Option('-W, --duration <secs>', 'exit after this long (seconds, or 500ms, 2m...)').argParser(duration))
    .option('--no-topic', 'print only the payload')
    .option('--base64', 'print payloads base64-encoded')
    .option('--retained-only', 'print only the retained messages; exit at the first message that is not retained')
    .addOption(timeoutOption())
    .action(async (filter: string, opts: SubOptions) => {
      if (!isValidFilter(filter)) throw new TedgeError('INVALID_TOPIC', `invalid topic filter '${filter}': '+' and '#' must fill a whole level, and '#' must be last`);
      const ctx = context();
      const bus = await connect(ctx, 'sub', opts);
      if (bus === undefined) return;
      try {
        await receive(bus, filter, opts, ctx);
      } finally {
        await bus.close();
      }
    });
}

/** Prints messages until the count is reached, the duration has passed, or the process is told to stop. */
async function receive(bus: MqttBus, filter: string, opts: SubOptions, ctx: CommandContext): Promise<void> {
  const signal = ctx.signal;
  if (signal?.aborted) return;
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const limit = opts.count === undefined || opts.count === 0 ? undefined : opts.count;
      let done = false;
      const print = (m: Message): void => {
        if (done) return; // a burst may overshoot before close
        if (opts.retainedOnly === true && m.retain !== true) {
          done = true;
          resolve();
          return;
        }
        const payload = printablePayload(m.payload, opts.base64 === true);
        ctx.out(`${opts.topic ? `[${m.topic}] ${payload}` : payload}\n`);
        received += 1;
        if (limit !== undefined && received >= limit) {
          done = true;
          resolve();
        }
      };
      bus.onMessage(print);
      onAbort = resolve;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.duration !== undefined) timer = setTimeout(resolve, opts.duration);
      bus.subscribe([filter], opts.qos).catch(reject);
    });
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Undefined when Ctrl-C came while connecting (with `--connection-timeout 0` that may be the only way out): not an error. */
async function connect(ctx: CommandContext, role: 'pub' | 'sub', opts: ConnectionOptions): Promise<MqttBus | undefined> {
  const config = ctx.config();
  const connecting = MqttBus.connect({
    ...localBrokerOptions(config),
    clientId: `tedge-${role}-${process.pid}`,
    cleanSession: true,
    // 0: no limit, the way a daemon waits for its broker.
    ...(opts.connectionTimeout > 0 ? { connectTimeoutMs: opts.connectionTimeout } : {}),
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
  });
  try {
    return await connecting;
  } catch (err) {
    if (ctx.signal?.aborted === true) return undefined;
    throw err;
  }
}

/** Waits `ms`; false when Ctrl-C came first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function qosOption(fallback: '0' | '1'): Option {
  return new Option('-q, --qos <n>', 'quality of service: 0, 1 or 2').default(Number(fallback) as QoS, fallback).argParser(qos);
}

function timeoutOption(): Option {
  return new Option('--connection-timeout <secs>', 'give up connecting to the broker after this long')
    .default(durationMs(DEFAULT_CONNECTION_TIMEOUT), DEFAULT_CONNECTION_TIMEOUT)
    .argParser(duration);
}

function qos(text: string): QoS {
  if (text === '0' || text === '1' || text === '2') return Number(text) as QoS;
  throw new InvalidArgumentError('expected 0, 1 or 2');
}

function count(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new InvalidArgumentError('expected a number (0: no limit)');
  return Number(text);
}

/** Milliseconds from "5", "5s", "500ms", "2m" (bare numbers are seconds, as in thin-edge). */
function duration(text: string): number {
  try {
    return durationMs(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
