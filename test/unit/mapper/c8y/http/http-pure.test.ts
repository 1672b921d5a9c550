import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { JwtAuth } from '../../../../../src/mapper/c8y/http/auth';
import { authType, basicHeader, parseCredentials } from '../../../../../src/mapper/c8y/http/credentials';
import { tenantPath } from '../../../../../src/mapper/c8y/http/downloads';
import { JwtSource } from '../../../../../src/mapper/c8y/http/jwt';
import { multipartFrame, multipartStream } from '../../../../../src/mapper/c8y/http/multipart';
import { proxyRoute } from '../../../../../src/mapper/c8y/http/proxy-server';
import { retryDelayMs, shouldRetry } from '../../../../../src/mapper/c8y/http/retry';
import { tenantBaseUrl } from '../../../../../src/mapper/c8y/http/build';
import { bypassesProxy, connectHeaders, parseProxyAddress } from '../../../../../src/mapper/c8y/http/connect-proxy';
import { message, payloadText } from '../../../../../src/core/message';
import type { Message } from '../../../../../src/core/message';

describe('c8y.auth_method', () => {
  const table: ReadonlyArray<[string, boolean, string]> = [
    ['certificate', true, 'certificate'],
    ['certificate', false, 'certificate'],
    ['basic', false, 'basic'],
    ['auto', true, 'basic'],
    ['auto', false, 'certificate'],
  ];
  for (const [method, exists, expected] of table) {
    it(`${method}, credentials file ${exists ? 'present' : 'absent'} → ${expected}`, () => assert.equal(authType(method, exists), expected));
  }
  it('an unknown method is a config error', () => assert.throws(() => authType('token', false), /auto, certificate or basic/));
});

describe('credentials file', () => {
  it('reads [c8y] username and password', () => {
    const c = parseCredentials('[c8y]\nusername = "t1234/octocat"\npassword = "abcd1234"\n', 'credentials.toml');
    assert.deepEqual(c, { username: 't1234/octocat', password: 'abcd1234' });
    assert.equal(basicHeader(c), `Basic ${Buffer.from('t1234/octocat:abcd1234').toString('base64')}`);
  });
  it('a missing password is an error that does not show the user name', () => {
    assert.throws(
      () => parseCredentials('[c8y]\nusername = "secret-user"\n', 'c.toml'),
      (e: Error) => /expected \[c8y\]/.test(e.message) && !e.message.includes('secret-user'),
    );
  });
});

describe('retries', () => {
  const table: ReadonlyArray<[string, boolean, number | 'network', number, boolean]> = [
    ['GET', true, 'network', 1, true],
    ['GET', true, 503, 1, true],
    ['GET', true, 404, 1, false],
    ['GET', true, 503, 3, false],
    ['PUT', true, 502, 1, true],
    ['DELETE', true, 'network', 2, true],
    ['POST', true, 'network', 1, false],
    ['POST', true, 503, 1, false],
    ['PATCH', true, 504, 1, false],
    ['PUT', false, 503, 1, false],
  ];
  for (const [method, replayable, failure, tries, expected] of table) {
    it(`${method} ${replayable ? 'buffered' : 'streamed'} after ${failure} (try ${tries}) → ${expected ? 'retry' : 'give up'}`, () => {
      const attempt = failure === 'network' ? ({ kind: 'network' } as const) : ({ kind: 'status', status: failure } as const);
      assert.equal(shouldRetry(method, replayable, attempt, tries, 3), expected);
    });
  }
  it('backs off exponentially, bounded', () => assert.deepEqual([1, 2, 3, 10].map(retryDelayMs), [200, 400, 800, 5000]));
});

describe('proxy routes', () => {
  const table: ReadonlyArray<[string, string]> = [
    ['/c8y/inventory/managedObjects?pageSize=1', 'forward /inventory/managedObjects?pageSize=1'],
    ['/c8y/event/events', 'forward /event/events'],
    ['/c8y', 'forward /'],
    ['/c8y/apps/cockpit/', 'forbidden'],
    ['/c8y/apps/x/main.js', 'forbidden'],
    ['/te/v1/files/x', 'not-found'],
    ['/c8yx/a', 'not-found'],
  ];
  for (const [url, expected] of table) {
    it(`${url} → ${expected}`, () => {
      const r = proxyRoute(url);
      assert.equal(r.kind === 'forward' ? `forward ${r.path}` : r.kind, expected);
    });
  }
});

describe('URLs needing the device credentials', () => {
  const proxy = 'http://127.0.0.1:8001/c8y';
  const hosts = ['tenant.example.com', 'tenant.example.com:443'];
  const table: ReadonlyArray<[string, string | undefined]> = [
    ['https://tenant.example.com/inventory/binaries/42', '/inventory/binaries/42'],
    ['https://TENANT.example.com/inventory/binaries/42?x=1', '/inventory/binaries/42?x=1'],
    ['http://127.0.0.1:8001/c8y/inventory/binaries/7', '/inventory/binaries/7'],
    ['https://example.org/firmware.bin', undefined],
    ['not a url', undefined],
  ];
  for (const [url, expected] of table) it(`${url} → ${String(expected)}`, () => assert.equal(tenantPath(url, proxy, hosts), expected));
  it('tenant base URL leaves out the default port', () => {
    assert.equal(tenantBaseUrl('tenant.example.com:443'), 'https://tenant.example.com');
    assert.equal(tenantBaseUrl('127.0.0.1:4443'), 'https://127.0.0.1:4443');
  });
});

describe('multipart framing', () => {
  it('frames a streamed file part (with a text field) as RFC 7578', async () => {
    const frame = multipartFrame({ filename: 'dev_log.txt', mimeType: 'text/plain', fields: { type: 'text/plain' } }, 'B');
    assert.equal(frame.contentType, 'multipart/form-data; boundary=B');
    const chunks: Buffer[] = [];
    for await (const c of multipartStream(frame, Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]))) chunks.push(c as Buffer);
    assert.equal(
      Buffer.concat(chunks).toString(),
      '--B\r\nContent-Disposition: form-data; name="type"\r\n\r\ntext/plain\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="dev_log.txt"\r\nContent-Type: text/plain\r\n\r\nline 1\nline 2\n\r\n--B--\r\n',
    );
  });
  it('quotes in a file name cannot break the header', () => {
    assert.match(multipartFrame({ filename: 'a"b\r\n.txt', mimeType: 'x/y' }, 'B').head.toString(), /filename="a_b__\.txt"/);
  });
});

describe('JWT over MQTT', () => {
  it('one s/uat request serves concurrent callers; a 401 refresh asks again only once', async () => {
    const sent: Message[] = [];
    let source: JwtSource | undefined;
    let n = 0;
    const jwt = new JwtSource({
      prefix: 'c8y',
      publish: async (m) => {
        sent.push(m);
        const token = `token-${++n}`;
        setImmediate(() => source?.onResponse(message('c8y/s/dat', `71,${token}`)));
      },
    });
    source = jwt;
    const auth = new JwtAuth(jwt);
    const [a, b] = await Promise.all([auth.header(), auth.header()]);
    assert.equal(a, 'Bearer token-1');
    assert.equal(b, 'Bearer token-1');
    assert.deepEqual(sent.map((m) => [m.topic, payloadText(m)]), [['c8y/s/uat', '']]);
    const [r1, r2] = await Promise.all([auth.refresh('Bearer token-1'), auth.refresh('Bearer token-1')]);
    assert.equal(r1, 'Bearer token-2');
    assert.equal(r2, 'Bearer token-2');
    assert.equal(await auth.refresh('Bearer token-1'), 'Bearer token-2', 'a stale refresh after the renewal costs nothing');
    assert.equal(sent.length, 2);
  });
  it('gives up after its attempts when no 71 comes', async () => {
    const jwt = new JwtSource({ prefix: 'c8y', publish: async () => {}, timeoutMs: 10, attempts: 2 });
    await assert.rejects(jwt.fetch(), /no JWT from Cumulocity on c8y\/s\/dat after 2 requests/);
  });
});

describe('outgoing HTTP proxy (proxy.*)', () => {
  it('parses proxy.address', () => {
    assert.deepEqual(parseProxyAddress('http://proxy.example.com:3128'), { host: 'proxy.example.com', port: 3128 });
    assert.deepEqual(parseProxyAddress('10.0.0.1:8080'), { host: '10.0.0.1', port: 8080 });
    assert.deepEqual(parseProxyAddress('proxy'), { host: 'proxy', port: 80 });
    assert.throws(() => parseProxyAddress('socks5://p:1080'), /proxy\.address must be http:\/\/HOST\[:PORT\]/);
  });
  const table: ReadonlyArray<[string, string[], boolean]> = [
    ['tenant.cumulocity.com', [], false],
    ['tenant.cumulocity.com', ['cumulocity.com'], true],
    ['tenant.cumulocity.com', ['.cumulocity.com'], true],
    ['tenant.cumulocity.com', ['*.cumulocity.com'], true],
    ['cumulocity.com.evil.org', ['cumulocity.com'], false],
    ['127.0.0.1', ['localhost', '127.0.0.1'], true],
    ['anything', ['*'], true],
  ];
  for (const [host, noProxy, expected] of table) it(`${host} with no_proxy [${noProxy.join(',')}] → ${expected ? 'direct' : 'proxied'}`, () => assert.equal(bypassesProxy(host, noProxy), expected));
  it('CONNECT names the target and authenticates only with a user', () => {
    assert.deepEqual(connectHeaders({ host: 'p', port: 1 }, 't:443'), { host: 't:443' });
    assert.deepEqual(connectHeaders({ host: 'p', port: 1, username: 'u', password: 'pw' }, 't:443'), { host: 't:443', 'proxy-authorization': `Basic ${Buffer.from('u:pw').toString('base64')}` });
  });
});
