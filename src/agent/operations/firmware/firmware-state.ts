import { type JsonObject, type JsonValue, isJsonObject } from '../../../core/json';

/**
 * The persisted progress of one firmware_update (design rule 7): which step the command is about to
 * take, written into the command payload (`firmwareUpdate`) before that step's effect, so that after a
 * kill -9 or a reboot the agent knows what may have happened and what to do next (see firmware-decide.ts).
 */
export type FirmwareStep =
  /** Downloading the image to `file` (a `.part` left by an interruption is resumed). */
  | 'download'
  /** The backend's `install` is running: the inactive slot is being written and armed for one trial boot. */
  | 'install'
  /** The trial reboot was asked for (reboot marker under run.path). */
  | 'reboot'
  /** Booted the target slot: waiting for health until `healthDeadline`, then `firmware.verify`. */
  | 'health'
  /** Healthy: `mark-good` makes the new slot permanent, then the twin is updated. */
  | 'commit'
  /** Unhealthy or interrupted: `mark-bad` makes the old slot the primary again. */
  | 'rollback'
  /** The rollback reboot was asked for; after it the command ends `failed` with `reason`. */
  | 'rollback-reboot';

export interface FirmwareState {
  readonly step: FirmwareStep;
  /** Where the image is downloaded to (under tmp.path). */
  readonly file?: string;
  /** The slot booted before the install. */
  readonly slotBefore?: string;
  /** The slot `install` wrote (its last stdout line); unknown when the backend does not say. */
  readonly targetSlot?: string;
  /** Reboots asked for in the current reboot step: a reboot that never happens is asked for again, a few times. */
  readonly rebootAttempts?: number;
  /** ISO time after which the health gate gives up. */
  readonly healthDeadline?: string;
  /** ISO time the trial reboot was asked for: health older than that is from the previous boot. */
  readonly rebootRequestedAt?: string;
  /** Why the update is being rolled back: the command's final reason. */
  readonly reason?: string;
}

export const STATE_FIELD = 'firmwareUpdate';

const STEPS: readonly FirmwareStep[] = ['download', 'install', 'reboot', 'health', 'commit', 'rollback', 'rollback-reboot'];

function text(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The state in a payload; undefined when the command has not started a step yet (or it is unreadable). */
export function readState(payload: JsonObject): FirmwareState | undefined {
  const v = payload[STATE_FIELD];
  if (!isJsonObject(v)) return undefined;
  const step = STEPS.find((s) => s === v['step']);
  if (step === undefined) return undefined;
  const attempts = v['rebootAttempts'];
  const state: { -readonly [K in keyof FirmwareState]: FirmwareState[K] } = { step };
  const file = text(v['file']);
  const slotBefore = text(v['slotBefore']);
  const targetSlot = text(v['targetSlot']);
  const healthDeadline = text(v['healthDeadline']);
  const rebootRequestedAt = text(v['rebootRequestedAt']);
  const reason = text(v['reason']);
  if (file !== undefined) state.file = file;
  if (slotBefore !== undefined) state.slotBefore = slotBefore;
  if (targetSlot !== undefined) state.targetSlot = targetSlot;
  if (typeof attempts === 'number') state.rebootAttempts = attempts;
  if (healthDeadline !== undefined) state.healthDeadline = healthDeadline;
  if (rebootRequestedAt !== undefined) state.rebootRequestedAt = rebootRequestedAt;
  if (reason !== undefined) state.reason = reason;
  return state;
}

/** The payload update that persists `state` (a checkpoint merges it over the command payload). */
export function stateUpdate(state: FirmwareState): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(state)) if (v !== undefined) out[k] = v as JsonValue;
  return { [STATE_FIELD]: out };
}

/** What a firmware_update asks for: thin-edge's payload (§1.5). */
export interface FirmwareRequest {
  readonly name: string;
  readonly version: string;
  /** What the agent downloads: the agent's own cache (`tedgeUrl`) first. */
  readonly url: string;
  /** What the twin `firmware` reports: the cloud's URL. */
  readonly sourceUrl: string;
  readonly sha256?: string;
}

/** Throws with a reason the command fails with. `tedgeUrl` (the agent's own cache) first, then the cloud's. */
export function parseRequest(payload: JsonObject): FirmwareRequest {
  const name = payload['name'];
  const version = payload['version'];
  if (typeof name !== 'string' || name === '') throw new Error('"name" must be a non-empty string');
  if (typeof version !== 'string' || version === '') throw new Error('"version" must be a non-empty string');
  // Passed as argv to the backend: an option-looking value would be read as an option.
  for (const [what, v] of [['name', name], ['version', version]] as const) {
    if (v.startsWith('-') || /[\u0000-\u001f]/.test(v)) throw new Error(`"${what}" must not start with '-' or contain control characters`);
  }
  const url = text(payload['tedgeUrl']) ?? text(payload['remoteUrl']) ?? text(payload['url']);
  if (url === undefined) throw new Error('no "tedgeUrl", "remoteUrl" or "url" to download the firmware from');
  const sourceUrl = text(payload['remoteUrl']) ?? text(payload['url']) ?? url;
  const sha = payload['sha256'];
  if (sha !== undefined && sha !== null && sha !== '' && (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha))) throw new Error('"sha256" must be 64 hex digits');
  return { name, version, url, sourceUrl, ...(typeof sha === 'string' && sha !== '' ? { sha256: sha.toLowerCase() } : {}) };
}
