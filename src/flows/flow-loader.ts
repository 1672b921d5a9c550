import { createHash } from 'node:crypto';
import { type Stats, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseToml } from '../config/toml';
import { compileStepModule } from './compile-script';
import { type FlowDefinition, flowName, parseFlow } from './model';
import { mergeParams } from './params';

/** A flow read from disk, with its compiled scripts and a digest of every file it depends on. */
export interface LoadedFlow {
  readonly definition: FlowDefinition;
  readonly scripts: Record<string, string>;
  readonly digest: string;
}

/** Every entry below `dir`, depth first in name order, with its stat; entries that vanish meanwhile are skipped. */
function walk(dir: string, visit: (path: string, st: Stats) => void): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    visit(p, st);
    if (st.isDirectory()) walk(p, visit);
  }
}

/** Every flow file under `dir` (recursively), sorted; params files excluded. */
export function flowFiles(dir: string): string[] {
  const out: string[] = [];
  walk(dir, (p, st) => {
    if (st.isFile() && flowName(dir, p) !== undefined) out.push(p);
  });
  return out;
}

function readParams(dir: string): Record<string, unknown> {
  const read = (p: string): Record<string, unknown> => (existsSync(p) ? parseToml(readFileSync(p, 'utf8'), p) : {});
  return mergeParams(read(join(dir, 'params.toml.template')), read(join(dir, 'params.toml')));
}

/** Reads, substitutes and compiles one flow; throws CONFIG_FILE naming the file for anything wrong. */
export function loadFlow(flowsDir: string, path: string, mapperParams: Record<string, unknown>, errorsTopic: string): LoadedFlow {
  const name = flowName(flowsDir, path) ?? path;
  const hash = createHash('sha256');
  const text = readFileSync(path, 'utf8');
  hash.update(text);
  const paramsDir = dirname(path);
  for (const p of ['params.toml.template', 'params.toml']) if (existsSync(join(paramsDir, p))) hash.update(readFileSync(join(paramsDir, p)));
  const definition = parseFlow(parseToml(text, path), path, name, { params: readParams(paramsDir), mapper: mapperParams }, errorsTopic);
  const scripts: Record<string, string> = {};
  for (const step of definition.steps) {
    if (step.kind !== 'script' || scripts[step.path] !== undefined) continue;
    const source = readFileSync(step.path, 'utf8');
    hash.update(source);
    scripts[step.path] = compileStepModule(source, step.path);
  }
  return { definition, scripts, digest: hash.digest('hex') };
}

/** What changes when any file under the flows directory changes (hot reload's trigger). */
export function treeFingerprint(dir: string): string {
  const parts: string[] = [];
  walk(dir, (p, st) => parts.push(`${p}:${st.size}:${st.mtimeMs}`));
  return parts.join('|');
}
