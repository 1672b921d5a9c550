import { MqttBus } from '../../src/bus/mqtt-bus';
import { message } from '../../src/core/message';

let sensors = 0;

/**
 * A device sensor on the local broker publishing numbered measurements at QoS 1. What counts is what
 * the broker acknowledged: each of those must reach the cloud, whatever else happens meanwhile.
 */
export class Sensor {
  /** Sequence numbers the broker acknowledged (PUBACK), in order of acknowledgement. */
  readonly acked: number[] = [];
  /** Publishes that failed (the broker was gone when the sensor gave up on them). */
  failed = 0;
  private next = 0;

  private constructor(private readonly bus: MqttBus) {}

  static async connect(port: number): Promise<Sensor> {
    const bus = await MqttBus.connect({ host: '127.0.0.1', port, clientId: `fault-sensor-${process.pid}-${sensors++}`, cleanSession: false, reconnectPeriodMs: 200 });
    return new Sensor(bus);
  }

  /** Publishes `count` more measurements, `window` unacknowledged at most; `pauseEvery` gives faults room to land. */
  async burst(count: number, opts: { window?: number; pauseEvery?: number; pauseMs?: number } = {}): Promise<void> {
    const window = opts.window ?? 20;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < count; i++) {
      const seq = this.next++;
      const p = this.bus.publish(message('te/device/main///m/seq', JSON.stringify({ seq }), { qos: 1 })).then(
        () => void this.acked.push(seq),
        () => void this.failed++,
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= window) await Promise.race(inFlight);
      if (opts.pauseEvery !== undefined && i % opts.pauseEvery === opts.pauseEvery - 1) await new Promise((r) => setTimeout(r, opts.pauseMs ?? 5));
    }
    await Promise.all(inFlight);
  }

  get published(): number {
    return this.next;
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
