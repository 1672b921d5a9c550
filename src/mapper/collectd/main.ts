import { topicFor } from '../../core/topics';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Lifecycle } from '../../runtime/lifecycle';
import { buildMapperDaemon } from '../daemon';
import { CollectdConverter } from './converter';

/** thin-edge documents 200 ms: long enough for one collectd read cycle, short for a dashboard. */
const BATCH_WINDOW_MS = 200;

/** Composition root of `tedge-mapper collectd`: config → converter → the shared mapper daemon wiring. */
export async function buildCollectdMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const converter = new CollectdConverter({
    outputTopic: topicFor(config.string('mqtt.device_topic_id'), { kind: 'measurement', type: '' }, config.string('mqtt.topic_root')),
    windowMs: BATCH_WINDOW_MS,
  });
  return buildMapperDaemon(config, logger, { service: 'tedge-mapper-collectd', component: 'collectd-mapper', converter, stop });
}
