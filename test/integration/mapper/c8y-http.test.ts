import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTedge } from '../../../src/cli/program';
import { BasicAuth, C8yEvents, C8yHttpClient, IdentityCache, tenantBaseUrl } from '../../../src/mapper/c8y/http';
import { uploadLocalFile } from '../../../src/mapper/c8y/http/uploads';
import { downloadToFileTransfer } from '../../../src/mapper/c8y/http/downloads';
import { FileTransferClient } from '../../../src/mapper/c8y/http/file-transfer';
import { BridgeDevice } from '../../helpers/bridge-device';
import { send } from '../../helpers/agent-http';
import { Daemon } from '../../helpers/daemon';
import { ConnectProxy } from '../../helpers/connect-proxy';
import { freePort } from '../../helpers/mosquitto';

const DEVICE = `c8y-http-it-${process.pid}`;

/**
 * The mapper's Cumulocity HTTP side against the simulator, with the built-in bridge carrying the JWT
 * requests and a real agent serving the file transfer service: one device for the whole file.
 */
describe('tedge-mapper c8y: Cumulocity HTTP (proxy, JWT, uploads, oversized events)', () => {
  let dev: BridgeDevice;
  let agent: Daemon;
  let proxyPort: number;
  let ftsPort: number;

  before(async () => {
    proxyPort = await freePort();
    ftsPort = await freePort();
    dev = await BridgeDevice.start({
      deviceId: DEVICE,
      probeTopics: ['c8y/s/dat', 'te/errors', 'te/device/main///cmd/log_upload/+'],
      env: { TEDGE_C8Y_PROXY_BIND_PORT: String(proxyPort), TEDGE_HTTP_BIND_PORT: String(ftsPort) },
    });
    for (const d of ['state', 'logs', 'run', 'tmp', 'plugins', 'app-logs']) mkdirSync(join(dev.configDir, d), { recursive: true });
    writeFileSync(join(dev.configDir, 'app-logs', 'app.log'), 'boot\nERROR disk full\nrunning\n');
    writeFileSync(join(dev.configDir, 'plugins', 'tedge-log-plugin.toml'), `files = [ { type = 'app', path = '${join(dev.configDir, 'app-logs')}/*.log' } ]\n`);
    // The device as `tedge connect` would have created it (100): the identity REST objects reference.
    dev.sim.c8y.identify(DEVICE);
    agent = Daemon.start('tedge-agent', [], {
      ...dev.env,
      TEDGE_AGENT_STATE_PATH: join(dev.configDir, 'state'),
      TEDGE_LOGS_PATH: join(dev.configDir, 'logs'),
      TEDGE_RUN_PATH: join(dev.configDir, 'run'),
      TEDGE_TMP_PATH: join(dev.configDir, 'tmp'),
      TEDGE_SUDO_ENABLE: 'false',
      TEDGE_LOG_PLUGIN_PATHS: join(dev.configDir, 'no-log-plugins'),
      TEDGE_CONFIGURATION_PLUGIN_PATHS: join(dev.configDir, 'no-config-plugins'),
    });
    dev.startMapper();
    await dev.bridgeUp();
    await dev.probe.waitForText('te/device/main/service/tedge-agent/status/health', (t) => t.includes('up'), 15_000).catch(() => undefined);
  });

  after(async () => {
    await agent?.stop();
    await dev?.stop();
  });

  const proxied = (method: string, path: string, body?: string): ReturnType<typeof send> =>
    send(proxyPort, method, `/c8y${path}`, body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } });

  it('proxies GET and POST with a JWT from s/uat, and gets a new one after a 401', async () => {
    const tenant = await proxied('GET', '/tenant/currentTenant');
    assert.equal(tenant.status, 200, tenant.text());
    assert.deepEqual(tenant.json(), { name: 't-sim', domainName: '127.0.0.1' });
    const before = dev.sim.c8y.tokenRequests;
    assert.ok(before >= 1);
    const auth = dev.sim.http.requests.at(-1)?.authorization ?? '';
    assert.match(auth, /^Bearer /);

    dev.sim.c8y.expireTokens();
    const created = await proxied('POST', '/event/events', JSON.stringify({ source: { id: '1' }, type: 'proxied', text: 'through the proxy', time: new Date().toISOString() }));
    assert.equal(created.status, 201, created.text());
    assert.equal(dev.sim.c8y.tokenRequests, before + 1, 'one new JWT after the 401');
    const posts = dev.sim.http.requests.filter((r) => r.method === 'POST' && r.path === '/event/events');
    assert.equal(posts.at(-1)?.body.toString().includes('through the proxy'), true, 'the body was sent again after the refresh');

    // A client's own Authorization is passed through, not replaced.
    const foreign = await send(proxyPort, 'GET', '/c8y/tenant/currentTenant', { headers: { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' } });
    assert.equal(foreign.status, 401);
    assert.equal((await proxied('GET', '/apps/cockpit/')).status, 403);
    assert.equal((await send(proxyPort, 'GET', '/other')).status, 404);
  });

  it('serves an upload request: the file on the file transfer service becomes an event binary, then 506 with its URL', async () => {
    const log = 'line 1\nline 2 ERROR\n'.repeat(2000);
    const put = await send(ftsPort, 'PUT', `/te/v1/files/${DEVICE}/log_upload/app-c8y-mapper-4242`, { body: log });
    assert.ok(put.status < 300, `PUT ${put.status}`);
    const cmd = 'te/device/main///cmd/log_upload/c8y-mapper-4242';
    await dev.probe.publish(cmd, JSON.stringify({ status: 'successful', type: 'app', tedgeUrl: `http://127.0.0.1:${ftsPort}/te/v1/files/${DEVICE}/log_upload/app-c8y-mapper-4242` }), { retain: true, qos: 1 });
    await dev.sim.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload.startsWith('506,4242,')), '506 of the upload');
    const line = dev.sim.messages('s/us').find((p) => p.startsWith('506,4242,')) ?? '';
    const m = /^506,4242,https:\/\/127\.0\.0\.1:\d+\/event\/events\/(\d+)\/binaries$/.exec(line);
    assert.ok(m, line);
    const eventId = m[1] ?? '';
    const event = dev.sim.http.events.get(eventId);
    assert.equal(event?.json['type'], 'app');
    assert.deepEqual(event?.json['source'], { id: dev.sim.c8y.identities.get(DEVICE) });
    assert.equal(dev.sim.http.eventFile(eventId), log);
    // The command is cleared and the file removed from the file transfer service.
    await dev.probe.waitFor((r) => r.some((x) => x.topic === cmd && x.payload.length === 0), 'the cleared command');
    assert.equal((await send(ftsPort, 'GET', `/te/v1/files/${DEVICE}/log_upload/app-c8y-mapper-4242`)).status, 404);
  });

  it('c8y_LogfileRequest from the cloud: the agent uploads to its file transfer service, the mapper attaches the file to an event', async () => {
    await dev.sim.waitFor((r) => r.some((m) => m.topic === 's/us' && /^118,.*app/.test(m.payload)), 'the supported log types (118)');
    const now = new Date();
    const opid = await dev.sim.createOperation({ c8y_LogfileRequest: { logFile: 'app', dateFrom: new Date(now.getTime() - 86_400_000).toISOString(), dateTo: new Date(now.getTime() + 60_000).toISOString(), searchText: 'ERROR', maximumLines: 100 } }, DEVICE);
    await dev.sim.waitFor(() => dev.sim.c8y.operations.get(opid)?.status === 'SUCCESSFUL' || dev.sim.c8y.operations.get(opid)?.status === 'FAILED', 'the log request to finish', 25_000);
    const op = dev.sim.c8y.operations.get(opid);
    assert.equal(op?.status, 'SUCCESSFUL', op?.failureReason);
    const eventId = /\/event\/events\/(\d+)\/binaries$/.exec(op?.result ?? '')?.[1] ?? '';
    assert.equal(dev.sim.http.events.get(eventId)?.json['type'], 'app');
    assert.equal(dev.sim.http.eventFile(eventId), 'ERROR disk full\n');
  });

  it('a file missing on the file transfer service fails the operation with the reason', async () => {
    await dev.probe.publish('te/device/main///cmd/log_upload/c8y-mapper-4343', JSON.stringify({ status: 'successful', type: 'gone', tedgeUrl: `http://127.0.0.1:${ftsPort}/te/v1/files/${DEVICE}/log_upload/gone-4343` }), { retain: true, qos: 1 });
    await dev.sim.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload.startsWith('505,4343,')), '505 of the failed upload');
    const line = dev.sim.messages('s/us').find((p) => p.startsWith('505,4343,')) ?? '';
    assert.match(line, /log file 'gone'.*HTTP 404/);
  });

  it('creates an event too large for MQTT over HTTP, with the source REST needs', async () => {
    const big = 'x'.repeat(20_000);
    await dev.probe.publish('te/device/main///e/huge', JSON.stringify({ text: 'a big one', blob: big }), { qos: 1 });
    const deadline = Date.now() + 15_000;
    let found: Record<string, unknown> | undefined;
    while (Date.now() < deadline && found === undefined) {
      found = [...dev.sim.http.events.values()].map((e) => e.json).find((j) => j['type'] === 'huge');
      if (found === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(found, 'the event reached the REST side');
    assert.equal(found['text'], 'a big one');
    assert.equal(found['blob'], big);
    assert.deepEqual(found['source'], { id: dev.sim.c8y.identities.get(DEVICE) });
    assert.equal(dev.sim.messages('event/events/create').some((p) => p.includes(big)), false);
  });

  it('downloads a tenant binary with the credentials into the file transfer service', async () => {
    dev.sim.http.users.set('dl-user', 'dl-secret');
    const id = dev.sim.http.addBinary('firmware bytes', 'application/octet-stream');
    const client = new C8yHttpClient({ baseUrl: tenantBaseUrl(dev.sim.httpEndpoint), auth: new BasicAuth(() => ({ username: 'dl-user', password: 'dl-secret' })), ca: readFileSync(dev.sim.caPath, 'utf8') });
    const files = new FileTransferClient(`http://127.0.0.1:${ftsPort}/te/v1/files`, undefined);
    try {
      const url = await downloadToFileTransfer(`${dev.sim.httpBaseUrl}/inventory/binaries/${id}`, `${DEVICE}/firmware_update/fw-1`, { client, files, proxyBase: `http://127.0.0.1:${proxyPort}/c8y`, tenantHosts: ['127.0.0.1'] });
      assert.equal(url, `http://127.0.0.1:${ftsPort}/te/v1/files/${DEVICE}/firmware_update/fw-1`);
      assert.equal((await send(ftsPort, 'GET', `/te/v1/files/${DEVICE}/firmware_update/fw-1`)).text(), 'firmware bytes');
      // The operation-log upload (c8y.operations.auto_log_upload): a local file as an event binary.
      const opLog = join(dev.configDir, 'workflow-restart-1.log');
      writeFileSync(opLog, 'restart failed: no reboot\n');
      const binary = await uploadLocalFile(new C8yEvents(client, new IdentityCache(client)), { externalId: DEVICE, filePath: opLog, eventType: 'restart_op_log', text: 'restart operation log', mimeType: 'text/plain', time: new Date() });
      const logEvent = /\/event\/events\/(\d+)\/binaries$/.exec(binary)?.[1] ?? '';
      assert.equal(dev.sim.http.events.get(logEvent)?.json['type'], 'restart_op_log');
      assert.equal(dev.sim.http.eventFile(logEvent), 'restart failed: no reboot\n');
      await assert.rejects(downloadToFileTransfer(`${dev.sim.httpBaseUrl}/inventory/binaries/nope`, 'x/y', { client, files, proxyBase: 'http://127.0.0.1:1/c8y', tenantHosts: ['127.0.0.1'] }), /download of https:\/\/127\.0\.0\.1:\d+\/inventory\/binaries\/nope failed: HTTP 404/);
    } finally {
      client.close();
    }
  });

  it('reaches the tenant through an HTTP CONNECT proxy (proxy.address) with TLS end to end', async () => {
    const tunnel = await ConnectProxy.start();
    const port = tunnel.port;
    dev.sim.http.users.set('via-proxy', 'pw');
    const client = new C8yHttpClient({
      baseUrl: tenantBaseUrl(dev.sim.httpEndpoint),
      auth: new BasicAuth(() => ({ username: 'via-proxy', password: 'pw' })),
      ca: readFileSync(dev.sim.caPath, 'utf8'),
      proxy: { host: '127.0.0.1', port, username: 'pu', password: 'pp' },
    });
    try {
      assert.deepEqual(await client.json('GET', '/tenant/currentTenant'), { name: 't-sim', domainName: '127.0.0.1' });
      assert.deepEqual(tunnel.tunnels, [{ target: dev.sim.httpEndpoint, auth: `Basic ${Buffer.from('pu:pp').toString('base64')}` }]);
    } finally {
      client.close();
      await tunnel.stop();
    }
  });

  it('tedge http and tedge upload c8y go through the proxy', async () => {
    const run = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runTedge(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ...dev.env, TEDGE_C8Y_PROXY_CLIENT_PORT: String(proxyPort) }, version: '9.9.9' });
      return { code, out, err };
    };
    const got = await run(['http', 'get', '/c8y/tenant/currentTenant']);
    assert.equal(got.code, 0, got.err);
    assert.deepEqual(JSON.parse(got.out), { name: 't-sim', domainName: '127.0.0.1' });
    const posted = await run(['http', 'post', '/c8y/event/events', '--data', JSON.stringify({ source: { id: '1' }, type: 'cli', text: 'from tedge http', time: new Date().toISOString() })]);
    assert.equal(posted.code, 0, posted.err);
    assert.equal((JSON.parse(posted.out) as { type: string }).type, 'cli');
    const missing = await run(['http', 'get', '/c8y/identity/externalIds/c8y_Serial/nobody']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^error: HTTP client error: 404/);

    // A large body is streamed through the proxy (no 401 replay possible: the token is checked first).
    const big = join(dev.configDir, 'big.bin');
    writeFileSync(big, Buffer.alloc(3 * 1024 * 1024, 7));
    dev.sim.c8y.expireTokens();
    const stored = await run(['http', 'post', '/c8y/inventory/binaries', '--file', big, '--content-type', 'application/octet-stream']);
    assert.equal(stored.code, 0, stored.err);
    const binId = (JSON.parse(stored.out) as { id: string }).id;
    assert.equal(dev.sim.http.binaries.get(binId)?.content.length, 3 * 1024 * 1024);
    // Streamed, not held: 64 MiB through the proxy leaves the mapper's peak resident memory far below that.
    const huge = join(dev.configDir, 'huge.bin');
    writeFileSync(huge, Buffer.alloc(64 * 1024 * 1024, 9));
    const peakBefore = peakRssKiB(dev.mapper?.process.pid);
    const streamed = await run(['http', 'post', '/c8y/inventory/binaries', '--file', huge, '--content-type', 'application/octet-stream']);
    assert.equal(streamed.code, 0, streamed.err);
    assert.equal(dev.sim.http.binaries.get((JSON.parse(streamed.out) as { id: string }).id)?.content.length, 64 * 1024 * 1024);
    const grew = peakRssKiB(dev.mapper?.process.pid) - peakBefore;
    assert.ok(grew < 40 * 1024, `the mapper's peak RSS grew by ${grew} KiB for a 64 MiB body`);
    // Binary answers reach stdout byte for byte.
    const bytes = Buffer.from([0, 255, 128, 10, 200]);
    const raw = dev.sim.http.addBinary(bytes);
    const chunks: Buffer[] = [];
    const code = await runTedge(['http', 'get', `/c8y/inventory/binaries/${raw}`], { out: () => {}, outBytes: (b) => chunks.push(Buffer.from(b)), err: () => {}, env: { ...dev.env, TEDGE_C8Y_PROXY_CLIENT_PORT: String(proxyPort) }, version: '9.9.9' });
    assert.equal(code, 0);
    assert.deepEqual(Buffer.concat(chunks), bytes);
    const entities = await run(['http', 'get', '/te/v1/entities']);
    assert.equal(entities.code, 0, entities.err);
    assert.ok(Array.isArray(JSON.parse(entities.out)), entities.out);

    const file = join(dev.configDir, 'report.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const up = await run(['upload', 'c8y', '--file', file, '--mime-type', 'text/csv', '--type', 'report', '--text', 'the report']);
    assert.equal(up.code, 0, up.err);
    const eventId = up.out.trim();
    assert.equal(dev.sim.http.events.get(eventId)?.json['text'], 'the report');
    assert.equal(dev.sim.http.eventFile(eventId), 'a,b\n1,2\n');
  });

  it('never writes a credential to its log or to te/', async () => {
    const tokens = dev.probe.texts('c8y/s/dat').map((t) => t.replace(/^71,/, ''));
    assert.ok(tokens.length >= 2, 'tokens were seen on the local bus');
    const output = dev.mapper?.output ?? '';
    for (const t of tokens) assert.equal(output.includes(t), false, 'a JWT in the mapper log');
    assert.equal(output.includes('dl-secret'), false);
    for (const e of dev.probe.texts('te/errors')) for (const t of tokens) assert.equal(e.includes(t), false);
  });

  it('an upload request left while the mapper was down is served after its restart (the HTTP side acknowledges only what it served)', async () => {
    await dev.mapper?.stop();
    await send(ftsPort, 'PUT', `/te/v1/files/${DEVICE}/config_snapshot/app-c8y-mapper-4545`, { body: 'key = value\n' });
    const request = { topicId: 'device/main//', operation: 'config_snapshot', cmdId: 'c8y-mapper-4545', externalId: DEVICE, tedgeUrl: `http://127.0.0.1:${ftsPort}/te/v1/files/${DEVICE}/config_snapshot/app-c8y-mapper-4545`, eventType: 'app' };
    await dev.probe.publish(`c8y/http/uploads/${DEVICE}`, JSON.stringify(request), { qos: 1 });
    dev.startMapper();
    await dev.sim.waitFor((r) => r.some((m) => m.topic === 's/us' && m.payload.startsWith('506,4545,')), '506 of the upload requested while the mapper was down');
    const line = dev.sim.messages('s/us').find((p) => p.startsWith('506,4545,')) ?? '';
    const eventId = /\/event\/events\/(\d+)\/binaries$/.exec(line)?.[1] ?? '';
    assert.equal(dev.sim.http.eventFile(eventId), 'key = value\n');
  });
});

/** VmHWM of a process: its peak resident memory so far. */
function peakRssKiB(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}
