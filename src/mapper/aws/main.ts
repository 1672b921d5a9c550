import { mapperServiceName } from '../../config/profiles';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Lifecycle } from '../../runtime/lifecycle';
import { buildMapperDaemon } from '../daemon';
import { parseTimeFormat } from '../steps/add-timestamp';
import { meaConverter } from '../../flows/builtin-flows';
import { AwsConverter } from './converter';

/** Composition root of `tedge-mapper aws`: config → converter → the shared mapper daemon wiring. */
export async function buildAwsMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const settings = {
    topics: config.list('aws.topics'),
    prefix: config.string('aws.bridge.topic_prefix'),
    timestampFormat: config.boolean('aws.mapper.timestamp') ? parseTimeFormat(config.string('aws.mapper.timestamp_format'), 'aws.mapper.timestamp_format') : undefined,
    maxPayloadSize: config.number('aws.mapper.mqtt.max_payload_size'),
    maxPayloadSizeKey: 'aws.mapper.mqtt.max_payload_size',
  };
  // thin-edge 2.x: the mapping as an editable flow when <config-dir>/mappers/aws/flows/ exists.
  const converter = meaConverter('aws', config, settings, () => new AwsConverter(settings), { logger, stop });
  // The built-in bridge runs in this process unless mqtt.bridge.built_in=false or aws.url is unset.
  return buildMapperDaemon(config, logger, { service: mapperServiceName(config.scope ?? { cloud: 'aws', profile: undefined }), component: 'aws-mapper', converter, cloud: 'aws', stop });
}
