import { existsSync } from 'node:fs';
import { removeFile } from '../certs/files';
import { mapperServiceName } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { CLOUD_NAMES, type Cloud, bridgeConfPath } from './cloud-endpoint';
import { StepReporter } from './steps';
import type { ServiceManager } from './system-services';

export interface DisconnectDeps {
  readonly config: TedgeConfig;
  readonly out: (s: string) => void;
  readonly services: ServiceManager;
}

/**
 * `tedge disconnect <cloud>` (§3.1): removes the bridge file, restarts mosquitto (which drops a
 * mosquitto bridge), stops and disables tedge-mapper-<cloud>. Needs neither the cloud's URL nor a
 * certificate, so it works on a device whose certificate is already gone. Not connected (no bridge
 * file) is not an error: nothing is done and it says so. Every service step is attempted; the
 * first failure is thrown at the end.
 */
export async function disconnectCloud(cloud: Cloud, deps: DisconnectDeps): Promise<{ readonly wasConnected: boolean }> {
  const steps = new StepReporter(deps.out);
  const profile = deps.config.scope?.cloud === cloud ? deps.config.scope.profile : undefined;
  const path = bridgeConfPath(deps.config.configDir, cloud, profile);
  if (!existsSync(path)) {
    steps.line(`Not connected to ${CLOUD_NAMES[cloud]}: there is no ${path}; nothing to do`);
    return { wasConnected: false };
  }
  await steps.run(`removing ${path}`, () => removeFile(path));
  const services = deps.services;
  const available = await steps.run(`checking the service manager ${services.name}`, () => services.isAvailable(), (ok) => (ok ? undefined : 'not available'));
  const mapper = mapperServiceName({ cloud, profile });
  if (!available) {
    steps.skipped('stopping services', `${services.name} is not available here; restart mosquitto, stop and disable ${mapper} yourself`);
    return { wasConnected: true };
  }
  const failures: unknown[] = [];
  for (const [what, run] of [
    ['restarting mosquitto', () => services.run('restart', 'mosquitto')],
    [`stopping ${mapper}`, () => services.run('stop', mapper)],
    [`disabling ${mapper}`, () => services.run('disable', mapper)],
  ] as const) {
    await steps.run(what, run).catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw failures[0];
  steps.line(`Disconnected from ${CLOUD_NAMES[cloud]}`);
  return { wasConnected: true };
}
