/**
 * The typed surface of the native addon (native/binding) and its one loader.
 *
 * Nothing else in the project loads the `.node` file. `loadNative()` never throws and never logs:
 * it returns the binding, or `undefined` plus the reason, and the composition root logs that once.
 *
 * @example
 * const native = loadNative();
 * logger.info(native.binding ? `native hot path: ${native.path}` : `TypeScript hot path: ${native.reason}`);
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Bumped with native/binding/addon.cc whenever this interface changes. */
export const NATIVE_ABI_VERSION = 1;

/** An opaque converter context owned by the addon (a napi External). */
export type NativeConverterContext = { readonly __brand: 'NativeConverterContext' };

/** One parser per connection: the state of frames split across chunks lives in it. */
export interface NativeFrameParser {
  /** Descriptors written to `desc` for chunk[offset..]; offset 0 starts a new chunk. See frame-format.ts. */
  parse(chunk: Uint8Array, offset: number): number;
  /** The records of the last parse() call (3 words each), if any packet had records. */
  takeRecords(): Int32Array | undefined;
  /** The Buffer that holds the frame completed across chunks in the last parse() call. */
  takeCarry(): Buffer | undefined;
}

export interface NativeBinding {
  readonly abiVersion: number;
  readonly arch: string;
  readonly FrameParser: new (
    desc: Int32Array,
    meta: Int32Array,
    protocolVersion: number,
    maxPacketSize: number,
    internTopics: boolean,
  ) => NativeFrameParser;
  /** Messages by ParseError code, "%x"/"%s" filled by the caller (frame-format.ts has the same table). */
  parseErrorFormats(): string[];
  createConverterContext(defaultTypeJson: string, externalSourceJson: string, units: string[]): NativeConverterContext;
  /** >= 0: output length written into pool at poolOffset; -1 invalid, -2 syntax, -3 fallback, -4 pool too small. */
  convertMeasurement(ctx: NativeConverterContext, payload: Uint8Array, nowMs: number, pool: Uint8Array, poolOffset: number): number;
  lastConvertError(): string;
  takeConvertOutput(): Buffer;
  /** index[2i] = status (0 ok, 1 invalid, 2 syntax, 3 fallback), index[2i+1] = end of output i. */
  convertMeasurementBatch(
    ctx: NativeConverterContext | readonly NativeConverterContext[],
    payloads: readonly Uint8Array[],
    nowMs: number,
    index: Int32Array,
  ): [Buffer, Array<string | undefined>];
  /** >= 0: frame length written into pool at poolOffset; -1 pool too small; -2 not encodable. */
  encodePublish(topic: string, payload: Uint8Array, flags: number, messageId: number, version: number, pool: Uint8Array, poolOffset: number): number;
  /** madvise of the clean file mappings (+ malloc_trim); absent from addons built before it (src/runtime/resident-pages.ts). */
  readonly releaseResidentPages?: (advice: 'pageout' | 'cold', trimMalloc: boolean) => { mappings: number; bytes: number; error: number; trimmed: boolean };
}

export interface NativeLoad {
  readonly binding: NativeBinding | undefined;
  /** Where it was loaded from, when it was. */
  readonly path?: string;
  /** Why the TypeScript path is used, when it is. */
  readonly reason?: string;
}

export interface LoadOptions {
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Files to try, in order; defaults to defaultCandidates(). */
  readonly candidates?: readonly string[];
}

/** TEDGE_NATIVE_PATH, then build/Release and build/Debug of this checkout, then beside the executable. */
export function defaultCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const repoRoot = join(__dirname, '..', '..', '..'); // dist/src/native → repository root
  const list: string[] = [];
  const explicit = env['TEDGE_NATIVE_PATH'];
  if (explicit) list.push(explicit);
  list.push(
    join(repoRoot, 'build', 'Release', 'tedge_native.node'),
    join(repoRoot, 'build', 'Debug', 'tedge_native.node'),
    join(process.execPath, '..', 'tedge_native.node'),
  );
  return list;
}

/** Tries the candidates; `TEDGE_NATIVE=0` forces the TypeScript path. Never throws, never logs. */
export function loadNative(opts: LoadOptions = {}): NativeLoad {
  const env = opts.env ?? process.env;
  if (env['TEDGE_NATIVE'] === '0') return { binding: undefined, reason: 'TEDGE_NATIVE=0' };
  const tried: string[] = [];
  for (const path of opts.candidates ?? defaultCandidates(env)) {
    if (!existsSync(path)) {
      tried.push(`${path}: not found`);
      continue;
    }
    try {
      // The one untyped value in the project: checked below, then used through NativeBinding.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod: any = require(path);
      if (mod?.abiVersion !== NATIVE_ABI_VERSION || typeof mod.FrameParser !== 'function') {
        tried.push(`${path}: ABI version ${String(mod?.abiVersion)}, expected ${NATIVE_ABI_VERSION}`);
        continue;
      }
      return { binding: mod as NativeBinding, path };
    } catch (err) {
      tried.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { binding: undefined, reason: `addon not loaded (${tried.join('; ')})` };
}

let processWide: NativeLoad | undefined;

/**
 * The addon is a process-wide resource (dlopen'd once), so modules that cannot be handed a binding
 * (the mqtt-packet-compatible module that MQTT.js calls) share this one load. Composition roots call
 * it too and log the result; tests pass `loadNative()` results explicitly instead.
 */
export function nativeForProcess(): NativeLoad {
  processWide ??= loadNative();
  return processWide;
}
