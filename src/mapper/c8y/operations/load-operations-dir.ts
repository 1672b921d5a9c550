import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseToml } from '../../../config/toml';
import { errorMessage } from '../../../core/errors';
import { type OperationFile, operationFile, operationFileName } from './operation-file';
import type { OperationsDirectory } from './operations-dir';

export interface LoadedDirectory {
  readonly directory: OperationsDirectory;
  /** Files skipped, each with why: logged by the caller; the other files are used. */
  readonly problems: readonly string[];
}

function readFiles(dir: string, problems: string[]): OperationFile[] {
  const out: OperationFile[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const fileName of names) {
    const path = join(dir, fileName);
    let isFile: boolean;
    try {
      isFile = statSync(path).isFile();
    } catch {
      continue;
    }
    if (!isFile) continue;
    if (operationFileName(fileName) === undefined) {
      problems.push(`${path}: ignored, an operation file name has only A-Z a-z 0-9 _ and an optional .template`);
      continue;
    }
    try {
      const text = readFileSync(path, 'utf8');
      // A plain marker file may be empty; it only names the operation.
      out.push(operationFile(fileName, text.trim() === '' ? {} : parseToml(text, path)));
    } catch (err) {
      problems.push(`${path}: ${errorMessage(err)}`);
    }
  }
  return out;
}

/**
 * Reads `<config-dir>/operations/c8y/`: its files are the main device's (`mainXid`), each sub-directory's
 * those of the child (or nested child) device of that external id. A missing directory declares nothing.
 */
export function loadOperationsDirectory(root: string, mainXid: string): LoadedDirectory {
  const problems: string[] = [];
  const files = new Map<string, OperationFile[]>();
  files.set(mainXid, readFiles(root, problems));
  let entries: string[] = [];
  try {
    entries = readdirSync(root).sort();
  } catch {
    return { directory: { files }, problems };
  }
  for (const name of entries) {
    const path = join(root, name);
    try {
      if (!statSync(path).isDirectory()) continue;
    } catch {
      continue;
    }
    files.set(name, [...(files.get(name) ?? []), ...readFiles(path, problems)]);
  }
  return { directory: { files }, problems };
}
