import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs openssl without a shell; its stderr becomes the error message. */
function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', [...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * The simulated cloud's certificate authority (EC P-256, like toolchain.md §6): a CA, a server
 * certificate for localhost/127.0.0.1, and device certificates on request. Files are made
 * world-readable because mosquitto started as root reads them as user `mosquitto`.
 */
export class SimPki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** What the broker trusts: the CA, plus self-signed device certificates "uploaded" to the tenant. */
  readonly trustBundle: string;
  private serial = 1;

  constructor(readonly dir: string) {
    this.caCert = join(dir, 'ca.crt');
    this.caKey = join(dir, 'ca.key');
    this.serverCert = join(dir, 'server.crt');
    this.serverKey = join(dir, 'server.key');
    this.trustBundle = join(dir, 'trusted.pem');
  }

  static create(dir: string): SimPki {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    const pki = new SimPki(dir);
    openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=tedge-cloud-sim-ca'], dir);
    openssl(['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    pki.sign('server.csr', 'server.crt', 'server.ext');
    writeFileSync(pki.trustBundle, readFileSync(pki.caCert));
    pki.publish();
    return pki;
  }

  private sign(csr: string, out: string, ext: string): void {
    openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(Date.now() * 100 + this.serial++), '-out', out, '-days', '30', '-extfile', ext], this.dir);
  }

  private publish(): void {
    for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'trusted.pem']) if (existsSync(join(this.dir, f))) chmodSync(join(this.dir, f), 0o644);
  }

  /** A key and a CA-signed certificate with CN = deviceId, written where the device expects them. */
  issueDeviceCertificate(deviceId: string, certPath: string, keyPath: string): void {
    const base = `device-${deviceId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${this.serial}`;
    openssl(['req', ...EC, '-keyout', keyPath, '-out', `${base}.csr`, '-subj', `/CN=${deviceId}`], this.dir);
    writeFileSync(join(this.dir, `${base}.ext`), 'extendedKeyUsage=clientAuth\n');
    this.sign(`${base}.csr`, certPath, `${base}.ext`);
    chmodSync(keyPath, 0o600);
  }

  /** Signs a device's CSR (PEM) as the tenant's CA would; returns the certificate (PEM). */
  signCsr(csrPem: string): string {
    const base = `csr-${this.serial}`;
    writeFileSync(join(this.dir, `${base}.csr`), csrPem);
    writeFileSync(join(this.dir, `${base}.ext`), 'extendedKeyUsage=clientAuth\n');
    this.sign(`${base}.csr`, `${base}.crt`, `${base}.ext`);
    return readFileSync(join(this.dir, `${base}.crt`), 'utf8');
  }

  /** "Uploads" a self-signed device certificate: the broker trusts it after its next (re)start. */
  trust(certPem: string): void {
    writeFileSync(this.trustBundle, `${readFileSync(this.trustBundle, 'utf8').trimEnd()}\n${certPem.trim()}\n`);
    chmodSync(this.trustBundle, 0o644);
  }
}
