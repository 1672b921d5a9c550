import type { TedgeConfig } from '../config/tedge-config';

/** Where the device's certificate, private key and CSR live (device.cert_path, key_path, csr_path). */
export interface DeviceCertPaths {
  readonly certPath: string;
  readonly keyPath: string;
  readonly csrPath: string;
}

export function deviceCertPaths(config: TedgeConfig): DeviceCertPaths {
  return {
    certPath: config.string('device.cert_path'),
    keyPath: config.string('device.key_path'),
    csrPath: config.string('device.csr_path'),
  };
}

/**
 * The renewal candidate sits next to the certificate it will replace, as in thin-edge
 * (`<device.cert_path>.new`): same directory, hence same file system, so promotion is one rename.
 */
export function candidatePathOf(certPath: string): string {
  return `${certPath}.new`;
}
