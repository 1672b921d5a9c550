import { existsSync } from 'node:fs';
import type { Clock } from '../core/clock';
import { TedgeError } from '../core/errors';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { CSR_FILE_MODE, createCsr } from './csr';
import { removeFile, writeFileAtomic } from './files';
import { readOrCreatePrivateKey } from './key-pair';
import { candidatePathOf, deviceCertPaths } from './paths';
import { CERT_FILE_MODE, createSelfSignedCertificate } from './self-signed';
import { deviceSubject } from './subject';

/** The device-level operations behind `tedge cert create|create-csr|remove`, on the paths of the config. */

export interface CreatedCertificate {
  readonly deviceId: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** False when an existing key (e.g. from create-csr) was reused. */
  readonly keyCreated: boolean;
}

/**
 * A self-signed certificate with CN = deviceId. Never replaces a certificate: that would silently change
 * device.id and break the cloud connection; the user removes it first. An existing key is reused.
 */
export async function createDeviceCertificate(config: TedgeConfig, deviceId: string, clock: Clock): Promise<CreatedCertificate> {
  const subject = deviceSubject(config, deviceId);
  const validityMs = durationMs(config.string('certificate.validity.requested_duration'));
  const { certPath, keyPath } = deviceCertPaths(config);
  if (existsSync(certPath)) {
    throw new TedgeError('CERT_EXISTS', `a certificate already exists: ${certPath}; remove it first with: tedge cert remove`);
  }
  const { key, created } = readOrCreatePrivateKey(keyPath);
  const pem = await createSelfSignedCertificate({ subject, privateKey: key, validityMs, now: clock.now() });
  try {
    writeFileAtomic(certPath, pem, CERT_FILE_MODE);
  } catch (cause) {
    throw new TedgeError('IO', `cannot write the certificate ${certPath}: ${(cause as Error).message}`, { cause });
  }
  return { deviceId: subject.deviceId, certPath, keyPath, keyCreated: created };
}

export interface CsrOptions {
  /** Default: device.id (the CN of the current certificate, else the configured value). */
  readonly deviceId?: string;
  /** Default: device.csr_path. */
  readonly outputPath?: string;
}

export interface CreatedCsr {
  readonly deviceId: string;
  readonly csrPath: string;
  readonly keyPath: string;
  readonly keyCreated: boolean;
}

/** A CSR signed with the existing device key (created 0600 when there is none). */
export async function createDeviceCsr(config: TedgeConfig, options: CsrOptions = {}): Promise<CreatedCsr> {
  const deviceId = options.deviceId ?? config.text('device.id');
  if (deviceId === undefined) throw new TedgeError('USAGE', 'no device id: pass --device-id <id> or set one with: tedge config set device.id <id>');
  const subject = deviceSubject(config, deviceId);
  const paths = deviceCertPaths(config);
  const csrPath = options.outputPath ?? paths.csrPath;
  const { key, created } = readOrCreatePrivateKey(paths.keyPath);
  const pem = await createCsr(subject, key);
  try {
    writeFileAtomic(csrPath, pem, CSR_FILE_MODE);
  } catch (cause) {
    throw new TedgeError('IO', `cannot write the certificate signing request ${csrPath}: ${(cause as Error).message}`, { cause });
  }
  return { deviceId: subject.deviceId, csrPath, keyPath: paths.keyPath, keyCreated: created };
}

/** Removes the certificate, its key and a renewal candidate; returns the paths that existed. */
export function removeDeviceCertificate(config: TedgeConfig): string[] {
  const { certPath, keyPath } = deviceCertPaths(config);
  return [certPath, candidatePathOf(certPath), keyPath].filter((path) => {
    try {
      return removeFile(path);
    } catch (cause) {
      throw new TedgeError('IO', `cannot remove ${path}: ${(cause as Error).message}`, { cause });
    }
  });
}
