import { mapperServiceName } from '../../config/profiles';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Lifecycle } from '../../runtime/lifecycle';
import { buildMapperDaemon } from '../daemon';
import { parseTimeFormat } from '../steps/add-timestamp';
import { meaConverter } from '../../flows/builtin-flows';
import { AzConverter } from './converter';

/** Composition root of `tedge-mapper az`: config → converter → the shared mapper daemon wiring. */
export async function buildAzMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const settings = {
    topics: config.list('az.topics'),
    prefix: config.string('az.bridge.topic_prefix'),
    timestampFormat: config.boolean('az.mapper.timestamp') ? parseTimeFormat(config.string('az.mapper.timestamp_format'), 'az.mapper.timestamp_format') : undefined,
    maxPayloadSize: config.number('az.mapper.mqtt.max_payload_size'),
    maxPayloadSizeKey: 'az.mapper.mqtt.max_payload_size',
  };
  // thin-edge 2.x: the mapping as an editable flow when <config-dir>/mappers/az/flows/ exists.
  const converter = meaConverter('az', config, settings, () => new AzConverter(settings), { logger, stop });
  // The built-in bridge runs in this process unless mqtt.bridge.built_in=false or az.url is unset.
  return buildMapperDaemon(config, logger, { service: mapperServiceName(config.scope ?? { cloud: 'az', profile: undefined }), component: 'az-mapper', converter, cloud: 'az', stop });
}
