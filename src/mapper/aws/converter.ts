import type { Converter } from '../../core/converter';
import { type Message, message } from '../../core/message';
import { type MeaFlowOptions, meaFlow } from '../steps/mea-flow';
import { awsTopic } from './topic';

export interface AwsConverterOptions extends MeaFlowOptions {
  /** `aws.topics`: the te/ filters telemetry comes from. */
  readonly topics: readonly string[];
  /** `aws.bridge.topic_prefix`: the bridge sends `<prefix>/td/#` to AWS IoT. */
  readonly prefix: string;
}

/**
 * The AWS IoT converter (thin-edge's builtin aws `mea` flow): the Azure steps, then the te/
 * topic is folded into `<prefix>/td/<entity>/<channel>` so the cloud still knows the source.
 */
export class AwsConverter implements Converter {
  readonly filters: readonly string[];
  /** Mosquitto bridge notifications skipped so far (not data: a bare 1/0). */
  skipped = 0;

  constructor(private readonly opts: AwsConverterOptions) {
    this.filters = opts.topics;
  }

  convert(msg: Message, now: Date): Message[] {
    // The topic first: an unmappable topic is refused before any work on its payload.
    const topic = awsTopic(msg.topic, this.opts.prefix);
    const payload = meaFlow(msg, now, this.opts);
    if (payload === undefined) {
      this.skipped++;
      return [];
    }
    return [message(topic, payload, { qos: 1 })];
  }
}
