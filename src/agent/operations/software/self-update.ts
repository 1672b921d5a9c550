import { type JsonObject, isJsonObject } from '../../../core/json';
import type { TypeUpdates } from './update-request';

/**
 * The packages that are the agent itself: `tedge` is the name of this project's .deb (scripts/package.sh)
 * and of thin-edge's, as the apt plugin lists it. thin-edge has no setting for this, so neither do we.
 */
export const SELF_PACKAGES: readonly string[] = ['tedge'];

/** The payload field recording, before any plugin runs, what a resume after an agent restart must check. */
export const SELF_UPDATE_FIELD = 'selfUpdate';

/** A self-update module as requested: its name and, when given, the version asked for. */
export interface SelfModule {
  readonly name: string;
  readonly version?: string;
}

/** What the checkpoint holds: the agent's version before the update and the self modules being installed. */
export interface SelfUpdateRecord {
  readonly before: string;
  readonly modules: readonly SelfModule[];
  /**
   * The whole request ran and the package's postinst did not restart the agent, so the agent restarts
   * itself: after that restart only the version is checked, nothing runs again.
   */
  readonly applied?: boolean;
}

/** The installs (never removes: removing the agent is not an update of it) of the agent's own package. */
export function selfModules(groups: readonly TypeUpdates[]): SelfModule[] {
  const found: SelfModule[] = [];
  for (const group of groups)
    for (const m of group.modules)
      if (m.action === 'install' && SELF_PACKAGES.includes(m.name)) found.push({ name: m.name, ...(m.version !== undefined && { version: m.version }) });
  return found;
}

/** The checkpoint's payload field, or undefined when no self module was in the request. */
export function selfUpdateRecord(before: string, modules: readonly SelfModule[]): JsonObject | undefined {
  if (modules.length === 0) return undefined;
  return { before, modules: modules.map((m) => ({ name: m.name, ...(m.version !== undefined && { version: m.version }) })) };
}

/** The record read back from a persisted payload; undefined when absent or not in this shape. */
export function readSelfUpdateRecord(payload: JsonObject): SelfUpdateRecord | undefined {
  const field = payload[SELF_UPDATE_FIELD];
  if (!isJsonObject(field)) return undefined;
  const before = field['before'];
  const modules = field['modules'];
  if (typeof before !== 'string' || !Array.isArray(modules)) return undefined;
  const parsed: SelfModule[] = [];
  for (const m of modules) {
    if (!isJsonObject(m) || typeof m['name'] !== 'string') return undefined;
    const version = m['version'];
    parsed.push({ name: m['name'], ...(typeof version === 'string' && { version }) });
  }
  if (parsed.length === 0) return undefined;
  return { before, modules: parsed, ...(field['applied'] === true && { applied: true }) };
}

/**
 * A Debian version as the agent reports it: without the epoch (`1:`) and the Debian revision (`-1`), so that
 * a request for `1.2.0-1` matches an agent saying `1.2.0`. `~` stays: it is part of pre-release versions.
 */
export function upstreamVersion(version: string): string {
  const noEpoch = version.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  return dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
}

export type SelfUpdateDecision = { readonly status: 'successful' } | { readonly status: 'failed'; readonly reason: string };

/**
 * After an agent restart during a software_update that installed the agent's own package: is the new
 * version up? With a requested version, the running one must be it; without, it must differ from the
 * version that ran before the update (the restart was the package's, not a crash before it was installed).
 */
export function selfUpdateDecision(record: SelfUpdateRecord, now: string): SelfUpdateDecision {
  if (now === 'unknown') return { status: 'failed', reason: `Self-update: the agent restarted but cannot tell its own version (was ${record.before} before the update)` };
  for (const m of record.modules) {
    if (m.version === undefined) continue;
    if (m.version !== now && upstreamVersion(m.version) !== upstreamVersion(now))
      return { status: 'failed', reason: `Self-update of ${m.name}: version ${m.version} was requested but the restarted agent runs ${now} (was ${record.before} before the update)` };
  }
  if (record.modules.every((m) => m.version === undefined) && now === record.before)
    return { status: 'failed', reason: `Self-update of ${record.modules.map((m) => m.name).join(', ')}: the agent restarted but still runs version ${now}, as before the update` };
  return { status: 'successful' };
}

/** The request without the self modules: what remains to run once the new agent is up. */
export function withoutSelfModules(groups: readonly TypeUpdates[]): TypeUpdates[] {
  return groups.map((g) => ({ type: g.type, modules: g.modules.filter((m) => !(m.action === 'install' && SELF_PACKAGES.includes(m.name))) }));
}
