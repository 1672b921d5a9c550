import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TedgeConfig } from '../config/tedge-config';
import { errorMessage } from '../core/errors';
import type { Logger } from '../log/logger';
import { installBuiltinFlow } from './flows-converter';

/** `<config-dir>/mappers/<cloud>[.<profile>]/flows/`: where thin-edge 2.x keeps a built-in mapper's flows. */
export function builtinFlowsDir(config: TedgeConfig, cloud: 'c8y' | 'az' | 'aws'): string {
  const profile = config.scope?.profile;
  return join(config.configDir, 'mappers', profile === undefined ? cloud : `${cloud}.${profile}`, 'flows');
}

/**
 * Creates `dir` when missing and installs the mapper's flows there (each with its `.toml.template`
 * witness). False when that cannot be done (read-only config dir, wrong owner): one warning names the
 * path and the cause, and the mapper runs its built-in converter, which gives the same output.
 */
export function installBuiltinFlows(dir: string, flows: Readonly<Record<string, string>>, logger: Logger): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, toml] of Object.entries(flows)) installBuiltinFlow(dir, name, toml);
    return true;
  } catch (err) {
    logger.warn({ flowsDir: dir }, `cannot install the built-in flows in ${dir} (${errorMessage(err)}): mapping with the built-in converter instead`);
    return false;
  }
}
