import { mapperServiceName } from '../../config/profiles';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Lifecycle } from '../../runtime/lifecycle';
import { buildMapperDaemon } from '../daemon';
import { meaConverter, meaFlowSettings } from '../../flows/builtin-flows';
import { AzConverter } from './converter';

/** Composition root of `tedge-mapper az`: config → converter → the shared mapper daemon wiring. */
export async function buildAzMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const settings = meaFlowSettings('az', config);
  // thin-edge 2.x: the mapping as an editable flow in <config-dir>/mappers/az/flows/ (the converter if it cannot be written).
  const converter = meaConverter('az', config, settings, () => new AzConverter(settings), { logger, stop });
  // The built-in bridge runs in this process unless mqtt.bridge.built_in=false or az.url is unset.
  return buildMapperDaemon(config, logger, { service: mapperServiceName(config.scope ?? { cloud: 'az', profile: undefined }), component: 'az-mapper', converter, cloud: 'az', stop });
}
