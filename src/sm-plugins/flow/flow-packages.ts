import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseToml } from '../../config/toml';
import { errorMessage } from '../../core/errors';
import { flowFiles, loadFlow } from '../../flows/flow-loader';
import { flowName } from '../../flows/model';
import { planFlowArchive, writeFlowArchive } from './flow-archive';

/** The software module of a flow: `<mapper>/<flow name>`, the flow name possibly nested (`local/a/b`). */
export interface FlowModule {
  readonly mapper: string;
  readonly flow: string;
}

export const PARAMS_FILE = 'params.toml';
/** The version of a flow whose flow file says none (thin-edge's). */
export const DEFAULT_VERSION = '0.0.0';

/** `<mapper>/<flow>` with no empty, `.` or `..` segment: a module name never leaves the mappers directory. */
export function parseFlowModule(module: string): FlowModule {
  const segments = module.split('/');
  const [mapper, ...flow] = segments;
  if (mapper === undefined || flow.length === 0 || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`invalid module name '${module}': expected '<mapper>/<flow-name>' with no '..', '.' or empty segment and no leading '/'`);
  }
  return { mapper, flow: flow.join('/') };
}

export interface FlowPaths {
  /** `<config-dir>/mappers` */
  readonly mappersDir: string;
}

const mapperDir = (paths: FlowPaths, m: FlowModule): string => join(paths.mappersDir, m.mapper);
const flowsDir = (paths: FlowPaths, m: FlowModule): string => join(mapperDir(paths, m), 'flows');
const flowDir = (paths: FlowPaths, m: FlowModule): string => join(flowsDir(paths, m), ...m.flow.split('/'));

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The `version` of a flow file; the default when it has none, and a warning when it cannot be read. */
export function flowVersion(path: string, warn: (line: string) => void): string {
  try {
    const version = parseToml(readFileSync(path, 'utf8'), path)['version'];
    return typeof version === 'string' && version !== '' ? version : DEFAULT_VERSION;
  } catch (err) {
    warn(`cannot read the version of ${path}: ${errorMessage(err)}; listed as ${DEFAULT_VERSION}`);
    return DEFAULT_VERSION;
  }
}

export interface ListedFlow {
  readonly name: string;
  readonly version: string;
}

/** Every flow of every mapper (`<mappers>/*\/flows/**\/*.toml`), named as the mappers name them, sorted. */
export function listFlows(paths: FlowPaths, warn: (line: string) => void): ListedFlow[] {
  let mappers: string[];
  try {
    mappers = readdirSync(paths.mappersDir).sort();
  } catch {
    return [];
  }
  const listed: ListedFlow[] = [];
  for (const mapper of mappers) {
    const dir = join(paths.mappersDir, mapper, 'flows');
    if (mapper.startsWith('.') || !isDirectory(dir)) continue;
    for (const file of flowFiles(dir)) {
      const name = flowName(dir, file);
      if (name !== undefined) listed.push({ name: `${mapper}/${name}`, version: flowVersion(file, warn) });
    }
  }
  return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

export interface InstallOptions {
  /** The requested version: only compared with the flow file's. */
  readonly version?: string;
  /** `${mapper.*}` of the target mapper, for the check that the flows load. */
  readonly mapperParams: Record<string, unknown>;
  readonly errorsTopic: string;
  readonly warn: (line: string) => void;
}

/** Every flow of a freshly unpacked package must load as the mapper would load it. */
function checkFlows(dir: string, opts: InstallOptions): string[] {
  const files = flowFiles(dir);
  if (files.length === 0) throw new Error('invalid flow package: it contains no flow definition (a .toml file other than params.toml)');
  for (const file of files) {
    try {
      loadFlow(dir, file, opts.mapperParams, opts.errorsTopic);
    } catch (err) {
      throw new Error(`invalid flow package: ${(errorMessage(err).split('\n')[0] ?? '').split(`${dir}/`).join('')}`);
    }
  }
  return files;
}

/**
 * Installs a flow package as the directory `<mappers>/<mapper>/flows/<flow>` (thin-edge's layout): unpacked
 * and checked in a temporary directory of the mapper (outside the flows directory the mapper watches), the
 * user's params.toml of an earlier version carried over, then swapped in by renames. Any failure leaves the
 * previous version as it was.
 */
export function installFlow(paths: FlowPaths, module: FlowModule, archive: Buffer, opts: InstallOptions): void {
  const mapper = mapperDir(paths, module);
  if (!isDirectory(mapper)) throw new Error(`no mapper '${module.mapper}': ${mapper} is not a directory`);
  const planned = planFlowArchive(archive);
  const dest = flowDir(paths, module);
  const staging = mkdtempSync(join(mapper, '.flow-install-'));
  let previous: string | undefined;
  try {
    writeFlowArchive(planned, staging);
    // mkdtemp makes it 0700: renamed in as it is, a mapper running as another user (tedge, the plugin run by sudo) could not read it.
    chmodSync(staging, 0o755);
    const files = checkFlows(staging, opts);
    if (existsSync(join(dest, PARAMS_FILE))) copyFileSync(join(dest, PARAMS_FILE), join(staging, PARAMS_FILE));
    mkdirSync(dirname(dest), { recursive: true });
    if (existsSync(dest)) {
      previous = `${staging}.previous`;
      renameSync(dest, previous);
    }
    try {
      renameSync(staging, dest);
    } catch (err) {
      if (previous !== undefined) renameSync(previous, dest);
      previous = undefined;
      throw err;
    }
    const main = files.find((f) => f === join(staging, 'flow.toml')) ?? files[0];
    const installed = main === undefined ? DEFAULT_VERSION : flowVersion(join(dest, main.slice(staging.length + 1)), opts.warn);
    if (opts.version !== undefined && opts.version !== installed) {
      opts.warn(`the requested version ${opts.version} of ${module.mapper}/${module.flow} is not the version its flow file says (${installed}): listed as ${installed}`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    if (previous !== undefined) rmSync(previous, { recursive: true, force: true });
  }
}

/**
 * Removes a flow: its directory when there is one (all but params.toml when `keepParams`, as
 * flows.params.keep_on_delete says), else its `<flow>.toml` file; nothing to remove is no error.
 * Returns what was removed, for the log.
 */
export function removeFlow(paths: FlowPaths, module: FlowModule, keepParams: boolean): string {
  const dir = flowDir(paths, module);
  if (isDirectory(dir)) {
    if (keepParams && existsSync(join(dir, PARAMS_FILE))) {
      for (const name of readdirSync(dir)) if (name !== PARAMS_FILE) rmSync(join(dir, name), { recursive: true, force: true });
      return `${dir} (params.toml kept)`;
    }
    rmSync(dir, { recursive: true, force: true });
    return dir;
  }
  const file = `${dir}.toml`;
  if (existsSync(file)) {
    rmSync(file, { force: true });
    return file;
  }
  return 'nothing';
}
