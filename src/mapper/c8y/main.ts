import { urlHost } from '../../config/keys';
import { mapperServiceName } from '../../config/profiles';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import { Lifecycle } from '../../runtime/lifecycle';
import { nativeForProcess } from '../../native/binding';
import { MeasurementConverter } from '../../native/measurement-converter';
import { buildMapperDaemon } from '../daemon';
import { c8yFlowSettings, c8yTelemetryFlows } from '../../flows/c8y-flows';
import { C8yConverter } from './converter';
import { buildOperationsWiring, withRunner } from './operations-wiring';
import { buildC8yHttpSide } from './http';

const ENABLE_KEY = {
  restart: 'c8y.enable.device_restart',
  software_update: 'c8y.enable.software_update',
  log_upload: 'c8y.enable.log_upload',
  config_snapshot: 'c8y.enable.config_snapshot',
  config_update: 'c8y.enable.config_update',
  firmware_update: 'c8y.enable.firmware_update',
  device_profile: 'c8y.enable.device_profile',
} as const;


/** Composition root of `tedge-mapper c8y`: config → converter → the shared mapper daemon wiring. */
export async function buildC8yMapper(config: TedgeConfig, logger: Logger, stop: AbortSignal): Promise<Lifecycle> {
  const deviceId = config.deviceId();
  const topicRoot = config.string('mqtt.topic_root');
  const prefix = config.string('c8y.bridge.topic_prefix');
  const c8yUrl = config.text('c8y.url');
  // thin-edge's names: tedge-mapper-c8y, tedge-mapper-c8y@<profile> (its health topic, MQTT session, state dir).
  const service = mapperServiceName(config.scope ?? { cloud: 'c8y', profile: undefined });
  const ops = buildOperationsWiring(config, logger, { deviceId, prefix, service, stop });
  const measurementConverter = new MeasurementConverter(nativeForProcess().binding);
  const flowSettings = c8yFlowSettings(config);
  const { topics, maxPayloadSize, serviceType } = flowSettings;
  // thin-edge 2.x: telemetry mapped by editable flows in <config-dir>/mappers/c8y/flows/ (the converter if it cannot be written).
  const telemetryFlows = c8yTelemetryFlows(config, flowSettings, measurementConverter, { logger, stop });
  const converter = new C8yConverter({
    ...ops.options,
    deviceId,
    prefix,
    service,
    topicRoot,
    topics,
    maxPayloadSize,
    earlyMessageLimit: 10_000,
    measurementConverter,
    ...(telemetryFlows === undefined ? {} : { telemetryFlows }),
    createWithDeviceMarker: config.boolean('c8y.smartrest.child_device.create_with_device_marker'),
    serviceType,
    useOperationId: config.boolean('c8y.smartrest.use_operation_id'),
    enabled: (op) => {
      const key = ENABLE_KEY[op as keyof typeof ENABLE_KEY];
      return key === undefined || config.boolean(key);
    },
    fileTransferBase: `http://${config.string('http.client.host')}:${config.number('http.client.port')}/te/v1/files`,
    c8yProxyBase: `http://${config.string('c8y.proxy.client.host')}:${config.number('c8y.proxy.client.port')}/c8y`,
    c8yHost: c8yUrl === undefined ? undefined : urlHost(c8yUrl),
  });
  // The HTTP side (proxy, uploads, oversized events) is checked before the mapper connects, like the bridge.
  const httpSide = buildC8yHttpSide(config, logger, { service, uploadFinished: (req, outcome) => converter.uploadFinished(req, outcome), stop });
  ops.prefetch.setDownloader(httpSide === undefined ? undefined : (url, path) => httpSide.downloadToFileTransfer(url, path));
  // The built-in bridge (src/bridge) runs in this process unless mqtt.bridge.built_in=false or c8y.url is unset.
  const mapper = withRunner(await buildMapperDaemon(config, logger, { service, component: 'c8y-mapper', converter, cloud: 'c8y', stop }), ops, logger);
  if (httpSide === undefined) return mapper;
  // Started after the mapper and its bridge (JWT requests go out over it), stopped before them.
  return new Lifecycle([{ name: service, start: () => mapper.start(), stop: () => mapper.stop() }, httpSide], logger);
}
