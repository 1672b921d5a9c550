import type { OperationFile, ExecSpec } from './operation-file';
import type { CustomOperation } from './options';

/**
 * What `<config-dir>/operations/c8y/` declares, by external id: the main device's files under its own id,
 * each `<xid>/` sub-directory's (child and nested child devices) under that xid.
 */
export interface OperationsDirectory {
  readonly files: ReadonlyMap<string, readonly OperationFile[]>;
}

export const EMPTY_DIRECTORY: OperationsDirectory = { files: new Map() };

/** Every non-template file names an operation of its entity's 114 (plain marker files, handlers alike). */
export function staticOperations(dir: OperationsDirectory): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [xid, files] of dir.files) {
    const names = files.filter((f) => !f.template).map((f) => f.name);
    if (names.length > 0) out.set(xid, names);
  }
  return out;
}

/**
 * Operations delegated to the agent (`[exec] on_fragment` + `[exec.workflow] operation`), from every
 * directory: a template's name joins an entity's 114 once its agent declares the workflow operation.
 */
export function workflowMappings(dir: OperationsDirectory): CustomOperation[] {
  const out: CustomOperation[] = [];
  const seen = new Set<string>();
  for (const files of dir.files.values()) {
    for (const f of files) {
      const w = f.exec?.workflow;
      const onFragment = f.exec?.onFragment;
      if (w === undefined || onFragment === undefined || seen.has(f.name)) continue;
      seen.add(f.name);
      out.push({ name: f.name, onFragment, operation: w.operation, ...(w.input !== undefined ? { input: w.input } : {}), ...(w.output !== undefined ? { output: w.output } : {}) });
    }
  }
  return out;
}

/** An operation the mapper runs itself, found by fragment (JSON) or template id (SmartREST). */
export interface ExecHandler {
  readonly name: string;
  readonly spec: ExecSpec & { readonly command: string };
}

/** Command handlers of an entity: its own directory's, then the main device's (thin-edge looks in both). */
export function execHandlers(dir: OperationsDirectory, xid: string, mainXid: string): ExecHandler[] {
  const own = dir.files.get(xid) ?? [];
  const main = xid === mainXid ? [] : (dir.files.get(mainXid) ?? []);
  const out: ExecHandler[] = [];
  for (const f of [...own, ...main]) {
    const spec = f.exec;
    if (f.template || spec?.command === undefined) continue;
    out.push({ name: f.name, spec: { ...spec, command: spec.command } });
  }
  return out;
}
