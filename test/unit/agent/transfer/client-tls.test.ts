import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientTls, fileTransferScheme } from '../../../../src/agent/transfer/client-tls';
import { downloadFile } from '../../../../src/agent/transfer/download';
import { uploadFile } from '../../../../src/agent/transfer/upload';
import { SimPki } from '../../../helpers/cloud-sim/pki';

const config = (values: Record<string, string>) => ({ text: (k: string) => values[k] });

describe('agent HTTP client over TLS (http.ca_path, http.client.auth.*)', () => {
  let dir: string;
  let pki: SimPki;
  let server: Server;
  let base: string;
  const puts: Buffer[] = [];
  const signal = new AbortController().signal;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tedge-tls-'));
    pki = SimPki.create(join(dir, 'pki'));
    pki.issueDeviceCertificate('agent', join(dir, 'client.crt'), join(dir, 'client.key'));
    server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') puts.push(Buffer.concat(chunks));
        res.writeHead(200).end(req.method === 'GET' ? 'over tls' : undefined);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads and uploads with the CA of http.ca_path and the client certificate', async () => {
    const tls = clientTls(config({ 'http.ca_path': pki.caCert, 'http.client.auth.cert_file': join(dir, 'client.crt'), 'http.client.auth.key_file': join(dir, 'client.key') }));
    assert.ok(tls);
    await downloadFile(`${base}/f`, join(dir, 'f'), { signal, tls, retries: 0 });
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'over tls');
    writeFileSync(join(dir, 'up'), 'up over tls');
    await uploadFile(`${base}/u`, join(dir, 'up'), { signal, tls });
    assert.equal(puts[0]?.toString(), 'up over tls');
  });

  it('http.ca_path may be a directory of PEM files', async () => {
    const tls = clientTls(config({ 'http.ca_path': join(dir, 'pki'), 'http.client.auth.cert_file': join(dir, 'client.crt'), 'http.client.auth.key_file': join(dir, 'client.key') }));
    await downloadFile(`${base}/f`, join(dir, 'g'), { signal, tls: tls ?? {}, retries: 0 });
  });

  it('fails with one clear error without the CA or without a client certificate', async () => {
    await assert.rejects(downloadFile(`${base}/f`, join(dir, 'h'), { signal, retries: 0 }), /download of https:\/\/localhost:\d+\/f failed: .*(self-signed|unable to verify|local issuer)/i);
    const noClient = clientTls(config({ 'http.ca_path': pki.caCert }));
    await assert.rejects(downloadFile(`${base}/f`, join(dir, 'h'), { signal, tls: noClient ?? {}, retries: 0 }), /download of .* failed: /);
  });

  it('reads nothing when nothing is configured; refuses half a client identity; https for a service with a certificate', () => {
    assert.equal(clientTls(config({})), undefined);
    assert.throws(() => clientTls(config({ 'http.client.auth.cert_file': '/x' })), /must be set together/);
    assert.throws(() => clientTls(config({ 'http.ca_path': join(dir, 'missing.pem') })), /cannot read http.ca_path/);
    assert.equal(fileTransferScheme(config({})), 'http');
    assert.equal(fileTransferScheme(config({ 'http.cert_path': '/c', 'http.key_path': '/k' })), 'https');
  });
});
