import { join } from 'node:path';
import { stablePort } from './mosquitto';

/**
 * The environment of a `tedge-agent` whose whole device lives under `dir`: every path a daemon writes
 * (config `<dir>/config`, state, logs, run, data, tmp), its broker's port, its HTTP service on a free
 * port (tests run side by side) and no sudo (tests run as root or not, never with a sudo to ask).
 */
export async function agentEnv(dir: string, brokerPort: number): Promise<Record<string, string>> {
  return {
    TEDGE_CONFIG_DIR: join(dir, 'config'),
    TEDGE_MQTT_CLIENT_PORT: String(brokerPort),
    TEDGE_AGENT_STATE_PATH: join(dir, 'state'),
    TEDGE_LOGS_PATH: join(dir, 'logs'),
    TEDGE_RUN_PATH: join(dir, 'run'),
    TEDGE_DATA_PATH: join(dir, 'data'),
    TEDGE_TMP_PATH: join(dir, 'tmp'),
    TEDGE_SUDO_ENABLE: 'false',
    TEDGE_HTTP_BIND_PORT: String(await stablePort()), // bound again by every restart of the agent
  };
}
