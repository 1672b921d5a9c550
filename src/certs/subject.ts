import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError } from '../core/errors';

/** The subject thin-edge puts in device certificates and CSRs: CN = device id, O and OU from config. */
export interface DeviceSubject {
  readonly deviceId: string;
  readonly organization: string;
  readonly organizationUnit: string;
}

/** thin-edge's limit: a CN is at most 64 characters (X.520 ub-common-name). */
const MAX_DEVICE_ID_LENGTH = 64;
/** thin-edge's set: what Cumulocity accepts as an external id and MQTT as a client id / topic level. */
const DEVICE_ID_CHARS = /^[A-Za-z0-9'=(),\-.?_*@!%]+$/;

export function validateDeviceId(id: string): string {
  if (id === '') throw new TedgeError('CERT_INVALID_DEVICE_ID', 'invalid device id: it must not be empty');
  if (id.length > MAX_DEVICE_ID_LENGTH) throw new TedgeError('CERT_INVALID_DEVICE_ID', `invalid device id '${id}': longer than ${MAX_DEVICE_ID_LENGTH} characters`);
  if (!DEVICE_ID_CHARS.test(id)) {
    throw new TedgeError('CERT_INVALID_DEVICE_ID', `invalid device id '${id}': use only A-Z, a-z, 0-9 and ' = ( ) , - . ? % * _ ! @`);
  }
  return id;
}

export function deviceSubject(config: TedgeConfig, deviceId: string): DeviceSubject {
  return {
    deviceId: validateDeviceId(deviceId),
    organization: config.string('certificate.organization'),
    organizationUnit: config.string('certificate.organization_unit'),
  };
}

/**
 * The subject as @peculiar/x509's JSON name: one RDN per attribute, values unescaped, so a device id
 * with ',' or '=' (both allowed) cannot be misread as a separator, as a "CN=..., O=..." string would be.
 */
export function jsonName(subject: DeviceSubject): Array<Record<string, string[]>> {
  return [{ CN: [subject.deviceId] }, { O: [subject.organization] }, { OU: [subject.organizationUnit] }];
}

/** The CN of a subject as node:crypto prints it (one `TYPE=value` per line, RFC 2253 escapes: `\,`). */
export function commonNameOf(subjectText: string): string | undefined {
  const line = subjectText.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? undefined : unescapeRfc2253(line.slice('CN='.length));
}

/** node:crypto's multi-line subject as thin-edge shows it: `CN=dev, O=Thin Edge, OU=Device`. */
export function oneLineName(subjectText: string): string {
  return subjectText.split('\n').filter((l) => l !== '').join(', ');
}

function unescapeRfc2253(value: string): string {
  return value.replace(/\\([0-9A-Fa-f]{2}|.)/g, (_, c: string) => (c.length === 2 ? String.fromCharCode(parseInt(c, 16)) : c));
}
