import type { Converter } from '../../core/converter';
import { type Message, message } from '../../core/message';
import { type MeaFlowOptions, meaFlow } from '../steps/mea-flow';

export interface AzConverterOptions extends MeaFlowOptions {
  /** `az.topics`: the te/ filters telemetry comes from. */
  readonly topics: readonly string[];
  /** `az.bridge.topic_prefix`: the bridge sends `<prefix>/messages/events/` to the IoT Hub. */
  readonly prefix: string;
}

/**
 * The Azure IoT Hub converter (thin-edge's builtin az `mea` flow): every measurement, event, alarm
 * and health message goes to the one device-to-cloud topic, payload as written plus `time`.
 * The te/ topic (entity, type) is not carried: Azure has one telemetry topic per device.
 */
export class AzConverter implements Converter {
  readonly filters: readonly string[];
  /** Mosquitto bridge notifications skipped so far (not data: a bare 1/0). */
  skipped = 0;
  private readonly output: string;

  constructor(private readonly opts: AzConverterOptions) {
    this.filters = opts.topics;
    this.output = `${opts.prefix}/messages/events/`;
  }

  convert(msg: Message, now: Date): Message[] {
    const payload = meaFlow(msg, now, this.opts);
    if (payload === undefined) {
      this.skipped++;
      return [];
    }
    return [message(this.output, payload, { qos: 1 })];
  }
}
