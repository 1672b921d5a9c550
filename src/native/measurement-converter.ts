/**
 * Thin Edge JSON measurement (bytes) → Cumulocity measurement JSON (bytes), natively when the addon
 * is loaded, else with the TypeScript path (payloadText → parseMeasurement → toC8yMeasurement). Both
 * accept and reject the same payloads with the same ConversionError messages and produce the same
 * bytes. The native converter hands some payloads back (ConvertStatus Fallback/Syntax in
 * native/core/status.h: duplicate or integer-like keys, JSON syntax errors whose wording is V8's, …):
 * those take the TypeScript path here, so callers never see the difference.
 *
 * @example
 * const converter = new MeasurementConverter(nativeForProcess().binding);
 * const out = converter.convert(msg.payload, { topicType: 'env', units, now: clock.now() });
 */
import { ConversionError } from '../core/errors';
import { parseMeasurement } from '../core/measurement';
import { payloadText } from '../core/message';
import { DEFAULT_MEASUREMENT_TYPE, toC8yMeasurement } from '../mapper/c8y/measurements';
import { type NativeBinding, type NativeConverterContext, nativeForProcess } from './binding';

export interface C8yMeasurementContext {
  /** The `<type>` of `te/<id>/m/<type>`; empty for `m/`. */
  readonly topicType: string;
  /** Units by series key (`temperature`, `Climate.Humidity`), from `m/<type>/meta`. */
  readonly units?: ReadonlyMap<string, string> | undefined;
  readonly externalSource?: { readonly externalId: string; readonly type: 'c8y_Serial' } | undefined;
  readonly now: Date;
}

const POOL_SIZE = 64 * 1024;
const MAX_CACHED_CONTEXTS = 4096;
const LONE_SURROGATE = /\p{Surrogate}/u;
const NO_UNITS: ReadonlyMap<string, string> = new Map();

/** The TypeScript path, bytes in → bytes out; throws ConversionError. */
export function convertWithTypeScript(payload: Uint8Array, ctx: C8yMeasurementContext): Buffer {
  const units = ctx.units;
  const text = payloadText({ topic: '', payload });
  const json = toC8yMeasurement(parseMeasurement(text), {
    topicType: ctx.topicType,
    unitOf: (key) => units?.get(key),
    ...(ctx.externalSource ? { externalSource: ctx.externalSource } : {}),
    now: ctx.now,
  });
  return Buffer.from(json, 'utf8');
}

export class MeasurementConverter {
  private pool = Buffer.allocUnsafe(POOL_SIZE);
  private used = 0;
  /** Native contexts by units table, then by type and external source. */
  private contexts = new WeakMap<ReadonlyMap<string, string>, Map<string, NativeConverterContext>>();
  private cached = 0;
  /** Counts of payloads the native converter handed to the TypeScript path, for diagnostics. */
  readonly fallbacks = { fallback: 0, syntax: 0 };

  constructor(private readonly native: NativeBinding | undefined) {}

  get isNative(): boolean {
    return this.native !== undefined;
  }

  /** The Cumulocity JSON of a measurement payload; throws ConversionError naming the cause. */
  convert(payload: Uint8Array, ctx: C8yMeasurementContext): Buffer {
    const native = this.native;
    if (!native) return convertWithTypeScript(payload, ctx);
    if (this.used > POOL_SIZE - 256) this.newPool();
    const n = native.convertMeasurement(this.context(native, ctx), payload, ctx.now.getTime(), this.pool, this.used);
    if (n >= 0) {
      const out = this.pool.subarray(this.used, this.used + n);
      this.used = (this.used + n + 7) & ~7;
      return out;
    }
    switch (n) {
      case -1:
        throw new ConversionError(native.lastConvertError());
      case -4: {
        const out = native.takeConvertOutput();
        this.newPool();
        return out;
      }
      case -2:
        this.fallbacks.syntax++;
        return convertWithTypeScript(payload, ctx);
      default:
        this.fallbacks.fallback++;
        return convertWithTypeScript(payload, ctx);
    }
  }

  /**
   * Many payloads in one native call (one crossing per batch). Each result is the output or the
   * ConversionError of that payload.
   */
  convertBatch(items: ReadonlyArray<{ readonly payload: Uint8Array; readonly ctx: C8yMeasurementContext }>): Array<Buffer | ConversionError> {
    const native = this.native;
    const first = items[0];
    const now = first?.ctx.now.getTime();
    if (!native || !first || items.some((item) => item.ctx.now.getTime() !== now)) {
      return items.map(({ payload, ctx }) => this.tryConvert(payload, ctx));
    }
    const index = new Int32Array(items.length * 2);
    const ctxs = items.map((item) => this.context(native, item.ctx));
    const [all, errors] = native.convertMeasurementBatch(ctxs, items.map((item) => item.payload), now as number, index);
    const out: Array<Buffer | ConversionError> = [];
    let start = 0;
    for (let i = 0; i < items.length; i++) {
      const status = index[2 * i] as number;
      const end = index[2 * i + 1] as number;
      const item = items[i] as { payload: Uint8Array; ctx: C8yMeasurementContext };
      if (status === 0) out.push(all.subarray(start, end));
      else if (status === 1) out.push(new ConversionError(errors[i] ?? 'Invalid measurement'));
      else out.push(this.tryConvertWithTypeScript(item.payload, item.ctx));
      start = end;
    }
    return out;
  }

  private tryConvert(payload: Uint8Array, ctx: C8yMeasurementContext): Buffer | ConversionError {
    try {
      return this.convert(payload, ctx);
    } catch (err) {
      if (err instanceof ConversionError) return err;
      throw err;
    }
  }

  private tryConvertWithTypeScript(payload: Uint8Array, ctx: C8yMeasurementContext): Buffer | ConversionError {
    try {
      return convertWithTypeScript(payload, ctx);
    } catch (err) {
      if (err instanceof ConversionError) return err;
      throw err;
    }
  }

  private newPool(): void {
    this.pool = Buffer.allocUnsafe(POOL_SIZE);
    this.used = 0;
  }

  /** Contexts are built once per (units table, type, external source): JSON fragments made by JSON.stringify. */
  private context(native: NativeBinding, ctx: C8yMeasurementContext): NativeConverterContext {
    const units = ctx.units ?? NO_UNITS;
    let byKey = this.contexts.get(units);
    if (!byKey) {
      if (this.cached >= MAX_CACHED_CONTEXTS) {
        this.contexts = new WeakMap();
        this.cached = 0;
      }
      byKey = new Map();
      this.contexts.set(units, byKey);
    }
    const ext = ctx.externalSource;
    const key = ext ? `${ctx.topicType}\u0000${ext.externalId}\u0000${ext.type}` : ctx.topicType;
    let handle = byKey.get(key);
    if (!handle) {
      const flat: string[] = [];
      for (const [series, unit] of units) {
        // Payload keys with lone surrogates always take the TS path; their units need not cross.
        if (!LONE_SURROGATE.test(series)) flat.push(series, JSON.stringify(unit));
      }
      handle = native.createConverterContext(
        JSON.stringify(ctx.topicType !== '' ? ctx.topicType : DEFAULT_MEASUREMENT_TYPE),
        ext ? JSON.stringify({ ...ext }) : '',
        flat,
      );
      byKey.set(key, handle);
      this.cached++;
    }
    return handle;
  }
}

let processConverter: MeasurementConverter | undefined;

/**
 * The one-function form: native when the addon is loaded in this process, TypeScript otherwise.
 * Daemons build a MeasurementConverter in their composition root instead.
 */
export function convertMeasurementToC8y(payload: Uint8Array, ctx: C8yMeasurementContext): Buffer {
  processConverter ??= new MeasurementConverter(nativeForProcess().binding);
  return processConverter.convert(payload, ctx);
}

/** Batch form of convertMeasurementToC8y. */
export function convertMeasurementsToC8y(
  items: ReadonlyArray<{ readonly payload: Uint8Array; readonly ctx: C8yMeasurementContext }>,
): Array<Buffer | ConversionError> {
  processConverter ??= new MeasurementConverter(nativeForProcess().binding);
  return processConverter.convertBatch(items);
}
