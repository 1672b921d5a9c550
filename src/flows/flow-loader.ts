import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

/** Every flow file under `dir` (recursively), sorted; params files excluded. */
export function flowFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (flowName(dir, p) !== undefined) out.push(p);
    }
  };
  walk(dir);
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
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        parts.push(`${p}:${st.size}:${st.mtimeMs}`);
        if (st.isDirectory()) walk(p);
      } catch {
        parts.push(`${p}:gone`);
      }
    }
  };
  walk(dir);
  return parts.join('|');
}
