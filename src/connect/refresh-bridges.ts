import { existsSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../certs/files';
import { scopeLabel } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { CLOUDS, bridgeConfPath, resolveEndpoint } from './cloud-endpoint';
import { BUILT_IN_BRIDGE_CONF, mosquittoBridge, renderMosquittoBridgeConf } from './mosquitto-bridge-conf';
import { StepReporter } from './steps';
import type { ServiceManager } from './system-services';
import { writeTedgeMosquittoConf } from './tedge-mosquitto-conf';

export interface RefreshDeps {
  readonly config: TedgeConfig;
  readonly out: (s: string) => void;
  readonly services: ServiceManager;
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * `tedge refresh-bridges` (thin-edge's): rewrites the bridge file of every cloud the device is connected to
 * (its bridge file exists) from the current configuration, with the bridge the configuration selects
 * (a mosquitto bridge, or the built-in bridge's one-line file), rewrites tedge-mosquitto.conf, and
 * restarts mosquitto. Used after an upgrade, or after changing mqtt.bridge.built_in.
 */
export async function refreshBridges(deps: RefreshDeps): Promise<{ readonly refreshed: readonly string[] }> {
  const { config } = deps;
  const steps = new StepReporter(deps.out);
  // Every connection: each cloud's default one and its profiles (c8y@<name>-bridge.conf).
  const connected = CLOUDS.flatMap((cloud) => [undefined, ...config.profiles(cloud)].map((profile) => ({ cloud, profile }))).filter((s) => existsSync(bridgeConfPath(config.configDir, s.cloud, s.profile)));
  const builtIn = config.boolean('mqtt.bridge.built_in');
  if (connected.length === 0 && !builtIn) {
    steps.line('No bridges to refresh.');
    return { refreshed: [] };
  }
  if (config.boolean('mqtt.bind.enabled')) await steps.run('writing the local broker configuration', () => writeTedgeMosquittoConf(config), (path) => path);
  for (const scope of connected) {
    const endpoint = resolveEndpoint(config.forCloud(scope.cloud, scope.profile), scope.cloud);
    const text = builtIn ? BUILT_IN_BRIDGE_CONF : renderMosquittoBridgeConf(mosquittoBridge(endpoint, { rootCertIsDirectory: isDirectory(endpoint.rootCertPath) }));
    await steps.run(`refreshing the bridge to ${scopeLabel(scope)}: ${endpoint.bridgeConfPath}`, () => writeFileAtomic(endpoint.bridgeConfPath, text, 0o644), () => (builtIn ? 'built-in bridge' : 'mosquitto bridge'));
  }
  if (await deps.services.isAvailable()) await steps.run('restarting mosquitto', () => deps.services.run('restart', 'mosquitto'));
  else steps.skipped('restarting mosquitto', `${deps.services.name} is not available here; restart mosquitto yourself`);
  return { refreshed: connected.map(scopeLabel) };
}
