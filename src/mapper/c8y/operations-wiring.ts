import { join } from 'node:path';
import { urlHost } from '../../config/keys';
import type { TedgeConfig } from '../../config/tedge-config';
import { durationMs } from '../../config/value-types';
import type { Logger } from '../../log/logger';
import { Lifecycle } from '../../runtime/lifecycle';
import { localBrokerOptions } from '../../runtime/local-broker';
import type { AvailabilityOptions } from './availability';
import type { OperationsOptions } from './operations';
import { ExecJournal } from './operations/exec-journal';
import { ExecRunner } from './operations/exec-runner';
import { loadOperationsDirectory } from './operations/load-operations-dir';
import { parseAutoLogUpload } from './operations/operation-log';
import { OperationLogUploader } from './operations/operation-log-uploader';
import { PrefetchRunner } from './operations/prefetch-runner';
import { OperationsDirWatch } from './operations/operations-dir-watch';
import { message } from '../../core/message';
import { serviceTopicId, topicFor } from '../../core/topics';
import type { OperationsDirectory } from './operations/operations-dir';

/** What the c8y composition root adds to the converter for operations: the directory, the runner, keys. */
export interface OperationsWiring {
  readonly options: Pick<OperationsOptions, 'directory' | 'reloadDirectory' | 'execute' | 'softwareWithTypes' | 'softwareApi' | 'c8yHosts' | 'autoLogUpload' | 'operationLogPath' | 'uploadOperationLog' | 'prefetch'> & {
    readonly availability: AvailabilityOptions;
  };
  readonly runner: ExecRunner;
  /** Set once the HTTP side exists: its downloadToFileTransfer copies tenant binaries for the agent. */
  readonly prefetch: PrefetchRunner;
  readonly watch: OperationsDirWatch;
}

/**
 * Reads `<config-dir>/operations/c8y/` (again on each `sync` signal), makes the runner of custom operation
 * commands, and reads the operation keys. Problems in operation files are logged; the other files count.
 */
export function buildOperationsWiring(config: TedgeConfig, logger: Logger, deps: { deviceId: string; prefix: string; service?: string; stop: AbortSignal }): OperationsWiring {
  const log = logger.child({ component: 'c8y-operations' });
  const service = deps.service ?? `tedge-mapper-${deps.prefix}`;
  const root = join(config.configDir, 'operations', 'c8y');
  const load = (): OperationsDirectory => {
    const { directory, problems } = loadOperationsDirectory(root, deps.deviceId);
    for (const p of problems) log.warn(p);
    return directory;
  };
  const journal = new ExecJournal(join(config.string('data.path'), 'mapper', service, 'custom-operations.json'));
  const runner = new ExecRunner({ broker: localBrokerOptions(config), clientId: `${service}#operations`, logger: log, stop: deps.stop, journal });
  const syncTopic = topicFor(serviceTopicId('main', service), { kind: 'signal', type: 'sync' }, config.string('mqtt.topic_root'));
  const prefetch = new PrefetchRunner((msgs) => runner.publish(msgs), log);
  const logs = new OperationLogUploader(`http://${config.string('c8y.proxy.client.host')}:${config.number('c8y.proxy.client.port')}/c8y`, log);
  const logsPath = config.string('logs.path');
  const hosts = (['c8y.http', 'c8y.mqtt'] as const).map((k) => config.text(k)).filter((h): h is string => h !== undefined).map(urlHost);
  return {
    options: {
      directory: load(),
      reloadDirectory: load,
      execute: (req) => runner.submit(req),
      softwareWithTypes: config.boolean('c8y.software_management.with_types'),
      softwareApi: config.string('c8y.software_management.api') === 'advanced' ? 'advanced' : 'legacy',
      c8yHosts: hosts,
      autoLogUpload: parseAutoLogUpload(config.string('c8y.operations.auto_log_upload')),
      // The agent's per-command log (src/agent/operations: workflow-<op>-<cmd id>.log).
      operationLogPath: (op, cmdId) => join(logsPath, 'agent', `workflow-${op}-${cmdId}.log`),
      uploadOperationLog: (req) => logs.submit(req),
      prefetch: (job) => prefetch.submit(job),
      availability: { enabled: config.boolean('c8y.availability.enable'), intervalMs: durationMs(config.string('c8y.availability.interval')) },
    },
    runner,
    prefetch,
    watch: new OperationsDirWatch(root, () => runner.publish([message(syncTopic, '{}', { qos: 1 })])),
  };
}

/** The mapper, then the runner (commands report over a connection of their own, closed first at a stop), then the directory watch. */
export function withRunner(mapper: Lifecycle, ops: Pick<OperationsWiring, 'runner' | 'watch'>, logger: Logger): Lifecycle {
  return new Lifecycle([{ name: 'c8y-mapper', start: () => mapper.start(), stop: () => mapper.stop() }, ops.runner, ops.watch], logger);
}
