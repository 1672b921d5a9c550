import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type EntityRegistration, registrationFromJson, registrationToJson } from '../../core/entity';
import { TedgeError, errorMessage } from '../../core/errors';
import { type JsonObject, isJsonObject, parseJson } from '../../core/json';
import { isEntityTopicId } from '../../core/topics';
import type { Logger } from '../../log/logger';
import type { EntityStore } from './entity-store';

export const ENTITY_STORE_FILE = 'entity_store.jsonl';

/** One line of the log: the store is the result of replaying them in order. */
export type EntityEvent =
  | { readonly op: 'register'; readonly registration: EntityRegistration }
  | { readonly op: 'deregister'; readonly topicId: string };

export interface RestoreReport {
  /** Entities in the store after the replay. */
  readonly restored: number;
  /** Lines that could not be read or applied; each was logged. */
  readonly skipped: number;
}

/** Appended lines after which the log is rewritten, relative to the number of entities. */
const COMPACT_MIN_APPENDS = 1000;
const COMPACT_FACTOR = 4;

/**
 * The entity store on disk: `<state dir>/entity_store.jsonl`, an append-only log of register/deregister
 * events. Each append is fsync'ed before the caller goes on; at start the log is replayed and rewritten
 * compacted (temp file + fsync + rename + fsync of the directory), so a torn last line from a crash is
 * dropped then and never gets glued to the next append. A bad line is skipped, counted and logged.
 */
export class EntityPersistence {
  private fd: number | undefined;
  private appendsSinceCompaction = 0;
  private store: EntityStore | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly logger: Logger,
  ) {}

  get path(): string {
    return join(this.stateDir, ENTITY_STORE_FILE);
  }

  /**
   * Replays the log into `store` (unless `clean`), rewrites it compacted and opens it for appending.
   * Fails with an IO error when the state directory cannot be written.
   */
  open(store: EntityStore, opts: { clean: boolean }): RestoreReport {
    this.store = store;
    let skipped = 0;
    try {
      mkdirSync(this.stateDir, { recursive: true });
      if (!opts.clean && existsSync(this.path)) skipped = this.replay(readFileSync(this.path, 'utf8'), store);
      this.compact();
    } catch (cause) {
      if (cause instanceof TedgeError) throw cause;
      throw new TedgeError('IO', `cannot use the entity store at ${this.path}: ${errorMessage(cause)}; check agent.state.path`, { cause });
    }
    return { restored: store.registrations().length, skipped };
  }

  private replay(text: string, store: EntityStore): number {
    let skipped = 0;
    const skip = (line: number, why: string): void => {
      skipped++;
      this.logger.warn({ file: this.path, line }, `skipping entity store line ${line}: ${why}`);
    };
    const lines = text.split('\n');
    lines.forEach((raw, i) => {
      if (raw.trim() === '') return;
      let event: EntityEvent;
      try {
        event = parseEvent(raw);
      } catch (err) {
        skip(i + 1, errorMessage(err));
        return;
      }
      if (event.op === 'deregister') {
        store.deregister(event.topicId);
        return;
      }
      const outcome = store.register(event.registration);
      if (outcome.kind === 'rejected') skip(i + 1, outcome.reason);
      if (outcome.kind === 'registered') for (const d of outcome.dropped) skip(i + 1, `${d.topicId}: ${d.reason}`);
    });
    // Parents are always written before their children, so an entity still waiting lost its parent's line.
    for (const id of store.pendingTopicIds()) {
      for (const orphan of store.deregister(id)) skip(0, `'${orphan.topicId}' has no parent in the file`);
    }
    return skipped;
  }

  /** Records one change; a failure is logged and counted by the caller, the in-memory store stays authoritative. */
  append(event: EntityEvent): void {
    if (this.fd === undefined) throw new TedgeError('IO', `the entity store ${this.path} is not open`);
    writeSync(this.fd, `${formatEvent(event)}\n`);
    fsyncSync(this.fd);
    this.appendsSinceCompaction++;
    const entities = this.store?.size ?? 0;
    if (this.appendsSinceCompaction > Math.max(COMPACT_MIN_APPENDS, COMPACT_FACTOR * entities)) this.compact();
  }

  /** Rewrites the log as one register line per entity, parents first, atomically. */
  compact(): void {
    const registrations = this.store?.registrations() ?? [];
    const text = registrations.map((r) => `${formatEvent({ op: 'register', registration: r })}\n`).join('');
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDir(dirname(this.path));
    this.fd = openSync(this.path, 'a', 0o644);
    this.appendsSinceCompaction = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function formatEvent(event: EntityEvent): string {
  return event.op === 'register'
    ? JSON.stringify({ op: 'register', topic_id: event.registration.topicId, registration: registrationToJson(event.registration) })
    : JSON.stringify({ op: 'deregister', topic_id: event.topicId });
}

/** Inverse of formatEvent; throws on anything else. */
export function parseEvent(line: string): EntityEvent {
  const value = parseJson(line);
  if (!isJsonObject(value)) throw new Error('not a JSON object');
  const topicId = value['topic_id'];
  if (typeof topicId !== 'string' || !isEntityTopicId(topicId)) throw new Error('"topic_id" is not an entity topic id');
  switch (value['op']) {
    case 'deregister':
      return { op: 'deregister', topicId };
    case 'register': {
      const reg = value['registration'];
      if (!isJsonObject(reg)) throw new Error('"registration" is not a JSON object');
      return { op: 'register', registration: registrationFromJson(topicId, reg as JsonObject) };
    }
    default:
      throw new Error(`unknown "op": ${JSON.stringify(value['op'] ?? null)}`);
  }
}

/** Makes a rename durable: the directory entry is data too. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
