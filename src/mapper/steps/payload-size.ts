import { ConversionError } from '../../core/errors';

/**
 * thin-edge's builtin `limit-payload-size` without `discard`: a payload the cloud would refuse is
 * reported on te/errors rather than sent. Counted on the bytes sent (after the timestamp step).
 */
export function limitPayloadSize(payload: Uint8Array, maxSize: number, key: string): Uint8Array {
  if (payload.length > maxSize) {
    throw new ConversionError(`The payload is ${payload.length} bytes, above the limit of ${maxSize} bytes (${key})`);
  }
  return payload;
}
