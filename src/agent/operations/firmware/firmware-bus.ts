import { MqttBus } from '../../../bus/mqtt-bus';
import { message, payloadText } from '../../../core/message';
import type { HandlerContext } from '../operation';
import { localBrokerOptions } from '../../../runtime/local-broker';
import { type RequiredService, isUp } from './health-gate';

/**
 * What firmware_update needs of the broker beyond its command topic: the retained health statuses of
 * the services the gate waits for, and the retained twin `firmware`. The executor's bus has a single
 * consumer, so the handler opens its own short session (clean, QoS 1) for the time it needs it.
 */
export interface FirmwareBus {
  /** Resolves with the services not up when `deadline` passes or `signal` aborts; [] as soon as all are up. */
  waitForHealth(services: readonly RequiredService[], since: Date | undefined, deadline: Date, signal: AbortSignal): Promise<string[]>;
  publishRetained(topic: string, payload: string): Promise<void>;
}

let sessions = 0;

/** A broker that does not answer by `signal` (the gate's deadline, the agent stopping) is an error, not a wait for ever. */
async function connect(ctx: HandlerContext, signal: AbortSignal): Promise<MqttBus> {
  return MqttBus.connect({
    ...localBrokerOptions(ctx.config),
    clientId: `tedge-agent-firmware-${process.pid}-${sessions++}`,
    cleanSession: true,
    signal,
  });
}

export function mqttFirmwareBus(ctx: HandlerContext): FirmwareBus {
  return {
    async waitForHealth(services, since, deadline, signal) {
      const bus = await connect(ctx, AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, deadline.getTime() - Date.now()))]));
      const last = new Map<string, string>();
      try {
        const missing = (): string[] => services.filter((s) => !isUp(s, last.get(s.topic) ?? '', since)).map((s) => s.name);
        return await new Promise<string[]>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve(missing());
          };
          const timer = setTimeout(done, Math.max(0, deadline.getTime() - Date.now()));
          signal.addEventListener('abort', done, { once: true });
          bus.onMessage((m) => {
            last.set(m.topic, payloadText(m));
            if (missing().length === 0) done();
          });
          bus.subscribe([...new Set(services.map((s) => s.topic))], 1).catch(done);
        });
      } finally {
        await bus.close();
      }
    },
    async publishRetained(topic, payload) {
      const bus = await connect(ctx, AbortSignal.timeout(30_000));
      try {
        await bus.publish(message(topic, payload, { qos: 1, retain: true }));
      } finally {
        await bus.close();
      }
    },
  };
}
