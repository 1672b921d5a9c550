import { type Command, InvalidArgumentError, Option } from 'commander';
import { MqttBus } from '../bus/mqtt-bus';
import { isValidFilter, isValidTopicName } from '../bus/topic-filter';
import { durationMs } from '../config/value-types';
import { TedgeError } from '../core/errors';
import { formatLine, type Message, message, type QoS } from '../core/message';
import type { CommandContext } from './context';
import { localBrokerOptions } from '../runtime/local-broker';

/** The CLI must not hang on a dead broker (daemons retry forever; a user at a prompt does not). */
const DEFAULT_CONNECTION_TIMEOUT = '5s';

interface ConnectionOptions {
  qos: QoS;
  connectionTimeout: number;
}

interface PubOptions extends ConnectionOptions {
  retain?: boolean;
}

interface SubOptions extends ConnectionOptions {
  count?: number;
  duration?: number;
  topic: boolean;
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
    .addOption(timeoutOption())
    .action(async (topic: string, payload: string, opts: PubOptions) => {
      if (!isValidTopicName(topic)) throw new TedgeError('INVALID_TOPIC', `invalid topic name '${topic}': a topic to publish on must be non-empty and contain no '+' or '#'`);
      const bus = await connect(context(), 'pub', opts);
      try {
        await bus.publish(message(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }));
      } finally {
        await bus.close();
      }
    });

  mqtt
    .command('sub')
    .description('print messages as "[topic] payload" lines until Ctrl-C, --count or --duration')
    .argument('<filter>', "topic filter; '+' and '#' wildcards allowed")
    .addOption(qosOption('0'))
    .addOption(new Option('-C, --count <n>', 'exit after receiving N messages').argParser(positiveInteger))
    .addOption(new Option('-W, --duration <secs>', 'exit after this long (seconds, or 500ms, 2m...)').argParser(duration))
    .option('--no-topic', 'print only the payload')
    .addOption(timeoutOption())
    .action(async (filter: string, opts: SubOptions) => {
      if (!isValidFilter(filter)) throw new TedgeError('INVALID_TOPIC', `invalid topic filter '${filter}': '+' and '#' must fill a whole level, and '#' must be last`);
      const ctx = context();
      const bus = await connect(ctx, 'sub', opts);
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
      const print = (m: Message): void => {
        if (opts.count !== undefined && received >= opts.count) return; // a burst may overshoot before close
        ctx.out(`${opts.topic ? formatLine(m) : Buffer.from(m.payload).toString('utf8')}\n`);
        received += 1;
        if (opts.count !== undefined && received >= opts.count) resolve();
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

function connect(ctx: CommandContext, role: 'pub' | 'sub', opts: ConnectionOptions): Promise<MqttBus> {
  const config = ctx.config();
  return MqttBus.connect({
    ...localBrokerOptions(config),
    clientId: `tedge-${role}-${process.pid}`,
    cleanSession: true,
    connectTimeoutMs: opts.connectionTimeout,
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

function positiveInteger(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError('expected a positive integer');
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
