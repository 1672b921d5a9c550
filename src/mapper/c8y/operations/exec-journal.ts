import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../../certs/files';
import { errorMessage } from '../../../core/errors';
import type { ExecRequest } from './exec';
import { type OperationRef, failedLine } from './status';

/** What is kept of a running custom operation: enough to report it failed after a crash. */
export interface JournalEntry {
  readonly name: string;
  readonly ref: OperationRef;
  readonly smartrestTopic: string;
}

/**
 * The custom operation commands running now, in a file under data.path: a mapper killed while a command
 * runs loses the command's result, but on its next start it reports the operation failed (thin-edge
 * leaves it EXECUTING in Cumulocity for ever). Written atomically before the command starts.
 */
export class ExecJournal {
  private readonly entries = new Map<string, JournalEntry>();
  private nextKey = 0;

  constructor(private readonly path: string) {}

  /** The entries a previous run left: the operations it never finished. Unreadable → none, with the cause. */
  leftOver(): { entries: JournalEntry[]; problem?: string } {
    if (!existsSync(this.path)) return { entries: [] };
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      return { entries: Array.isArray(parsed) ? parsed.filter(isEntry) : [] };
    } catch (e) {
      return { entries: [], problem: `${this.path}: ${errorMessage(e)}` };
    }
  }

  /** Forgets what a previous run left, once reported. */
  clear(): void {
    this.entries.clear();
    rmSync(this.path, { force: true });
  }

  /** Records a command about to run; the key to `remove` it with. Operations reporting themselves are not kept. */
  add(req: ExecRequest): string | undefined {
    if (req.skipStatusUpdate) return undefined;
    const key = String(this.nextKey++);
    this.entries.set(key, { name: req.name, ref: req.ref, smartrestTopic: req.smartrestTopic });
    this.write();
    return key;
  }

  remove(key: string | undefined): void {
    if (key === undefined || !this.entries.delete(key)) return;
    this.write();
  }

  private write(): void {
    if (this.entries.size === 0) rmSync(this.path, { force: true });
    else writeFileAtomic(this.path, JSON.stringify([...this.entries.values()]), 0o644);
  }
}

/** The status line that ends an operation whose command a previous run of the mapper left running. */
export function interruptedLine(e: JournalEntry): string {
  return failedLine(e.ref, `${e.name}: the mapper stopped while its command was running; the result is lost`);
}

function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const ref = o['ref'] as Record<string, unknown> | undefined;
  const refOk = typeof ref === 'object' && ref !== null && ((ref['by'] === 'id' && typeof ref['opid'] === 'string') || (ref['by'] === 'name' && typeof ref['name'] === 'string'));
  return typeof o['name'] === 'string' && typeof o['smartrestTopic'] === 'string' && refOk;
}
