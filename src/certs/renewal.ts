import { renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock';
import { TedgeError } from '../core/errors';
import { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { isNotFound, removeFile, syncDirectory, writeFileAtomic } from './files';
import { type CertificateInfo, certificateInfo } from './inspect';
import { readPrivateKey } from './key-pair';
import { candidatePathOf, type DeviceCertPaths, deviceCertPaths } from './paths';
import { CERT_FILE_MODE, createSelfSignedCertificate } from './self-signed';
import { deviceSubject } from './subject';
import { checkKeyMatches, readCertificate } from './validate';

/**
 * Two-phase certificate renewal. A renewal that replaces the certificate in place bricks the device
 * when the cloud does not accept the new one yet (thin-edge #3541): the old certificate, which still
 * worked, is gone. So:
 *
 * 1. `tedge cert renew` writes the new certificate as a CANDIDATE, `<device.cert_path>.new`
 *    (installCandidate). The current certificate and the key stay as they are: renewal keeps the key,
 *    as thin-edge does, so both certificates match the one key file and nothing else has to switch.
 * 2. The connection code (`tedge connect`/`reconnect`, the bridge) asks candidateCertificate(). When
 *    there is one, it connects with candidatePath + keyPath first:
 *      - connected → promoteCandidate(): one rename(2) over the current certificate, atomic on the
 *        same file system, then the directory is fsynced; a crash leaves either the old or the new one.
 *      - the server rejected the candidate (CERT_REJECTED, e.g. not uploaded to the cloud yet) → connect
 *        with the current certificate as before and keep the candidate for the next attempt; report it.
 *      - any other failure (network down) → neither certificate was judged; keep both, retry later.
 * 3. discardCandidate() drops a candidate the user gives up on (`tedge cert remove` does it too).
 *
 * Until the promotion, device.id and `tedge cert show` read the current certificate; needs-renewal
 * says "pending" (no renewal needed) while a fresh candidate waits, so the hourly renewer does not
 * replace a candidate the user has just uploaded (renewalState).
 */

/** Paths from the config, or given directly (a cloud profile with its own certificate). */
export type CertPathsSource = TedgeConfig | Pick<DeviceCertPaths, 'certPath' | 'keyPath'>;

export interface CandidateCertificate {
  /** The certificate in use, replaced on promotion. */
  readonly certPath: string;
  /** `<certPath>.new`: connect with this one (and keyPath) to try it. */
  readonly candidatePath: string;
  readonly keyPath: string;
}

function pathsOf(source: CertPathsSource): Pick<DeviceCertPaths, 'certPath' | 'keyPath'> {
  return source instanceof TedgeConfig ? deviceCertPaths(source) : source;
}

/** The candidate waiting for a successful connection, if any. */
export function candidateCertificate(source: CertPathsSource): CandidateCertificate | undefined {
  const { certPath, keyPath } = pathsOf(source);
  const candidatePath = candidatePathOf(certPath);
  try {
    readCertificate(candidatePath);
  } catch (error) {
    // A missing candidate is the normal case; an unreadable one is a problem to report, not to hide.
    if (error instanceof TedgeError && error.code === 'CERT_MISSING') return undefined;
    throw error;
  }
  return { certPath, candidatePath, keyPath };
}

/** Makes the candidate the current certificate. Call only after a connection with it succeeded. */
export function promoteCandidate(source: CertPathsSource): void {
  const { certPath } = pathsOf(source);
  const candidatePath = candidatePathOf(certPath);
  try {
    renameSync(candidatePath, certPath);
  } catch (cause) {
    if (isNotFound(cause)) throw new TedgeError('CERT_MISSING', `no new certificate to promote: ${candidatePath}`, { cause });
    throw new TedgeError('IO', `cannot replace ${certPath} with ${candidatePath}: ${(cause as Error).message}`, { cause });
  }
  syncDirectory(dirname(certPath));
}

/** Removes the candidate; false when there was none. */
export function discardCandidate(source: CertPathsSource): boolean {
  return removeFile(candidatePathOf(pathsOf(source).certPath));
}

/**
 * Writes a new certificate (PEM) as the candidate, after checking it is one and that it matches the
 * device key: a candidate that cannot work would only be found out at the next connection.
 */
export function installCandidate(source: CertPathsSource, pem: string): CandidateCertificate {
  const { certPath, keyPath } = pathsOf(source);
  const candidatePath = candidatePathOf(certPath);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new TedgeError('CERT_INVALID', `the new certificate for ${certPath} is not a PEM X.509 certificate`, { cause });
  }
  checkKeyMatches(cert, candidatePath, readPrivateKey(keyPath), keyPath);
  try {
    writeFileAtomic(candidatePath, pem, CERT_FILE_MODE);
  } catch (cause) {
    throw new TedgeError('IO', `cannot write the new certificate ${candidatePath}: ${(cause as Error).message}`, { cause });
  }
  return { certPath, candidatePath, keyPath };
}

/**
 * Renews a self-signed certificate: same device id (the current CN), same key, a fresh validity of
 * certificate.validity.requested_duration from now. A candidate left by an earlier renewal that never
 * connected is replaced: the newest one is the one worth trying.
 */
export async function renewSelfSigned(config: TedgeConfig, clock: Clock): Promise<CandidateCertificate> {
  const { certPath, keyPath } = deviceCertPaths(config);
  let current: X509Certificate;
  try {
    current = readCertificate(certPath);
  } catch (error) {
    if (error instanceof TedgeError && error.code === 'CERT_MISSING') {
      throw new TedgeError('CERT_MISSING', `no certificate to renew: ${certPath}; create one with: tedge cert create --device-id <id>`, { cause: error });
    }
    throw error;
  }
  const pem = await createSelfSignedCertificate({
    subject: deviceSubject(config, certificateInfo(current).deviceId),
    privateKey: readPrivateKey(keyPath),
    validityMs: durationMs(config.string('certificate.validity.requested_duration')),
    now: clock.now(),
  });
  return installCandidate({ certPath, keyPath }, pem);
}

/** Due when the certificate expires within `minimumMs` (certificate.validity.minimum_duration), or has expired. */
export function renewalDue(info: Pick<CertificateInfo, 'notAfter'>, minimumMs: number, now: Date): boolean {
  return info.notAfter.getTime() - now.getTime() <= minimumMs;
}

export type RenewalState =
  | { readonly kind: 'due'; readonly current: CertificateInfo }
  | { readonly kind: 'not-due'; readonly current: CertificateInfo }
  /** The current certificate is due, but a renewed one waits for its first connection. */
  | { readonly kind: 'pending'; readonly current: CertificateInfo; readonly candidate: CertificateInfo };

/**
 * What `tedge cert needs-renewal` answers. A fresh candidate means the renewal is done and waits for
 * a connection (and, for a self-signed one, for the user to upload it): renewing again would replace
 * the very certificate the user may have just uploaded. Throws CERT_MISSING / CERT_INVALID for the
 * current certificate; an unreadable candidate is ignored (renewal replaces it).
 */
export function renewalState(certPath: string, minimumMs: number, now: Date): RenewalState {
  const current = certificateInfo(readCertificate(certPath));
  if (!renewalDue(current, minimumMs, now)) return { kind: 'not-due', current };
  let candidate: CertificateInfo;
  try {
    candidate = certificateInfo(readCertificate(candidatePathOf(certPath)));
  } catch {
    return { kind: 'due', current };
  }
  return renewalDue(candidate, minimumMs, now) ? { kind: 'due', current } : { kind: 'pending', current, candidate };
}
