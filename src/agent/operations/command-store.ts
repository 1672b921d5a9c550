import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, syncDirectory } from '../../certs/files';
import { errorMessage } from '../../core/errors';
import { type JsonObject, isJsonObject, parseJson } from '../../core/json';

/** One command as persisted: its topic (which names entity, operation and id) and its last payload. */
export interface PersistedCommand {
  readonly topic: string;
  readonly payload: JsonObject;
  /** A terminal payload the broker has acknowledged. */
  readonly delivered?: boolean;
}

export interface LoadReport {
  readonly commands: PersistedCommand[];
  /** Files that could not be read; left in place for a human to look at, and logged by the caller. */
  readonly unreadable: Array<{ readonly file: string; readonly reason: string }>;
}

const SUFFIX = '.json';

/**
 * The in-flight commands of the agent on disk: one JSON file per command under
 * `<agent.state.path>/workflows/`, written atomically (temp file + fsync + rename + fsync of the
 * directory) so that after a crash each file holds the last state in full or the one before it.
 * Files are named `<op>-<id>.json`; the topic inside is what counts. A file lives from `executing`
 * until the requester clears the command.
 */
export class CommandStore {
  constructor(readonly dir: string) {}

  fileOf(operation: string, cmdId: string): string {
    // Topic segments cannot hold '/', so the name stays inside the directory. '%' is escaped everywhere and
    // '-' in the operation, so the first '-' splits the name and two commands never share a file.
    return join(this.dir, `${escape(operation).replaceAll('-', '%2D')}-${escape(cmdId)}${SUFFIX}`);
  }

  save(operation: string, cmdId: string, command: PersistedCommand): void {
    writeFileAtomic(this.fileOf(operation, cmdId), `${JSON.stringify(command)}\n`, 0o644);
  }

  remove(operation: string, cmdId: string): void {
    rmSync(this.fileOf(operation, cmdId), { force: true });
    syncDirectory(this.dir);
  }

  /** Every persisted command; a missing directory is an empty store. */
  load(): LoadReport {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { commands: [], unreadable: [] };
      throw err;
    }
    const commands: PersistedCommand[] = [];
    const unreadable: Array<{ file: string; reason: string }> = [];
    // Temp files of an interrupted write start with '.'; the rename never happened, the old file stands.
    for (const name of names.filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).sort()) {
      const file = join(this.dir, name);
      try {
        commands.push(parsePersisted(readFileSync(file, 'utf8')));
      } catch (err) {
        unreadable.push({ file, reason: errorMessage(err) });
      }
    }
    return { commands, unreadable };
  }
}

function escape(segment: string): string {
  return segment.replaceAll('%', '%25');
}

export function parsePersisted(text: string): PersistedCommand {
  const value = parseJson(text);
  if (!isJsonObject(value)) throw new Error('not a JSON object');
  const { topic, payload, delivered } = value;
  if (typeof topic !== 'string') throw new Error('no "topic" string');
  if (!isJsonObject(payload)) throw new Error('no "payload" object');
  return delivered === true ? { topic, payload, delivered } : { topic, payload };
}
