import type { JsonObject } from '../../../core/json';
import type { ModuleUpdate } from './modules';

/**
 * What went wrong in a software_update, collected per software type: thin-edge's `failures`
 * (`[{"type":…,"modules":[{name,version,action,reason}]}]`) and the one-line `reason`.
 */
export class FailureReport {
  private readonly byType = new Map<string, { errors: string[]; modules: JsonObject[] }>();

  /** An error of a type; `modules` are the modules it concerns (none for a failed prepare or finalize). */
  add(type: string, error: string, modules: readonly ModuleUpdate[] = []): void {
    const entry = this.byType.get(type) ?? { errors: [], modules: [] };
    this.byType.set(type, entry);
    entry.errors.push(error);
    for (const m of modules) entry.modules.push(moduleFailure(m, error));
  }

  get empty(): boolean {
    return this.byType.size === 0;
  }

  /** Every error, in the order they happened, prefixed with the type when there are several types. */
  messages(): string[] {
    const many = this.byType.size > 1;
    return [...this.byType].flatMap(([type, e]) => e.errors.map((m) => (many ? `${type}: ${m}` : m)));
  }

  /** One error: itself; several: their count and each of them. Undefined when nothing failed. */
  reason(): string | undefined {
    const messages = this.messages();
    if (messages.length === 0) return undefined;
    if (messages.length === 1) return messages[0];
    return `${messages.length} errors: ${messages.join('; ')}`;
  }

  /** The `failures` field: one entry per type that failed, its failed modules (possibly none). */
  failures(): JsonObject[] {
    return [...this.byType].map(([type, e]) => ({ type, modules: e.modules }));
  }
}

function moduleFailure(m: ModuleUpdate, reason: string): JsonObject {
  return {
    name: m.name,
    ...(m.version !== undefined && { version: m.version }),
    ...(m.url !== undefined && { url: m.url }),
    action: m.action,
    reason,
  };
}
