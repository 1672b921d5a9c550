import { mapperServiceName } from '../../config/profiles';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Lifecycle } from '../../runtime/lifecycle';
import { buildMapperDaemon } from '../daemon';
import { meaConverter, meaFlowSettings } from '../../flows/builtin-flows';
import { AwsConverter } from './converter';

/** Composition root of `tedge-mapper aws`: config → converter → the shared mapper daemon wiring. */
export async function buildAwsMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const settings = meaFlowSettings('aws', config);
  // thin-edge 2.x: the mapping as an editable flow in <config-dir>/mappers/aws/flows/ (the converter if it cannot be written).
  const converter = meaConverter('aws', config, settings, () => new AwsConverter(settings), { logger, stop });
  // The built-in bridge runs in this process unless mqtt.bridge.built_in=false or aws.url is unset.
  return buildMapperDaemon(config, logger, { service: mapperServiceName(config.scope ?? { cloud: 'aws', profile: undefined }), component: 'aws-mapper', converter, cloud: 'aws', stop });
}
