/**
 * The frame codec contract: bytes of an MQTT stream in, packet descriptors out (frame-format.ts),
 * one call per socket chunk. Two implementations hold it: the native parser (native/core through
 * the addon) and the TypeScript reference (frame-codec-reference.ts), used when the addon is missing
 * and as the oracle of the differential test.
 */
import type { NativeBinding } from './binding';
import { DEFAULT_MAX_PACKET_SIZE, DESC_WORDS, META_WORDS } from './frame-format';
import { ReferenceFrameCodec } from './frame-codec-reference';

export interface FrameCodec {
  readonly isNative: boolean;
  /** DESC_WORDS int32 per packet, overwritten by every parse() call. */
  readonly desc: Int32Array;
  readonly meta: Int32Array;
  /** Decodes chunk[offset..]; offset 0 starts a new chunk. Returns the number of descriptors written. */
  parse(chunk: Uint8Array, offset: number): number;
  /** Records of the last parse() call; take them before calling parse() again. */
  takeRecords(): Int32Array | undefined;
  /** The frame that completed across chunks in the last parse() call (source of FLAG_FROM_CARRY descriptors). */
  takeCarry(): Buffer | undefined;
}

export interface FrameCodecOptions {
  /** 3, 4 or 5; anything else behaves as mqtt-packet's parser without options. A CONNECT changes it. */
  readonly protocolVersion?: number | undefined;
  /** Largest whole frame accepted; larger ones are an error as soon as their length is known. */
  readonly maxPacketSize?: number | undefined;
  /** Native only: number PUBLISH topics so a consumer decodes each distinct topic once. */
  readonly internTopics?: boolean | undefined;
  /** Descriptors per parse() call (default 256): a larger chunk is handed back in several calls. */
  readonly capacity?: number | undefined;
}

export function createFrameCodec(native: NativeBinding | undefined, opts: FrameCodecOptions = {}): FrameCodec {
  const capacity = Math.max(1, opts.capacity ?? 256);
  const desc = new Int32Array(capacity * DESC_WORDS);
  const meta = new Int32Array(META_WORDS);
  const version = opts.protocolVersion ?? 0;
  const max = opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  if (!native) return new ReferenceFrameCodec(desc, meta, version, max);
  const parser = new native.FrameParser(desc, meta, version, max, opts.internTopics ?? false);
  return {
    isNative: true,
    desc,
    meta,
    parse: (chunk, offset) => parser.parse(chunk, offset),
    takeRecords: () => parser.takeRecords(),
    takeCarry: () => parser.takeCarry(),
  };
}
