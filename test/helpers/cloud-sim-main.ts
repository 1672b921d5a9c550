import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudSimulator } from './cloud-sim';
import type { HttpRecord } from './cloud-sim/http';

/**
 * The cloud simulator as a process, for scripts/demo.sh and manual runs:
 *
 *   node dist/test/helpers/cloud-sim-main.js [--dir DIR] [--mqtt-port N] [--http-port N] [--http-plain]
 *        [--device-id ID --cert PATH --key PATH]   issue a CA-signed device certificate there
 *        [--trust CERT.pem]                         trust a self-signed device certificate
 *
 * Lines on stdin drive the cloud side: `operation {"c8y_LogfileRequest":{…}}` creates an operation for the
 * device (as a user in the UI does) and prints `[operation <id>] <status>` as it changes.
 *
 * Prints one JSON line (endpoints, CA path, the device's TEDGE_* environment), then every message
 * the device sends as `[topic] payload`. Runs until SIGTERM or SIGINT.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      'http-plain': { type: 'boolean', default: false },
      'device-id': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      trust: { type: 'string', multiple: true },
    },
  });
  const sim = await CloudSimulator.start({
    ...(values.dir !== undefined ? { dir: values.dir } : {}),
    ...(values['mqtt-port'] !== undefined ? { mqttPort: Number(values['mqtt-port']) } : {}),
    ...(values['http-port'] !== undefined ? { httpPort: Number(values['http-port']) } : {}),
    httpTls: !values['http-plain'],
    record: false,
  });
  if (values['device-id'] !== undefined) {
    if (values.cert === undefined || values.key === undefined) throw new Error('--device-id needs --cert and --key');
    sim.issueDeviceCertificate(values['device-id'], values.cert, values.key);
  }
  for (const path of values.trust ?? []) await sim.trustCertificate(readFileSync(path, 'utf8'));
  sim.onDeviceMessage((m) => process.stdout.write(`[${m.topic}] ${m.payload}\n`));
  sim.http.onRequest((r) => process.stdout.write(`[HTTP ${r.method} ${r.path}] ${r.body.length} bytes${shown(r)}\n`));
  readLines(process.stdin, (line) => void command(sim, line));
  process.stdout.write(`${JSON.stringify({ mqtt: sim.mqttEndpoint, http: sim.httpBaseUrl, ca: sim.caPath, dir: sim.dir, env: sim.deviceEnv() })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await sim.stop();
  // stdin (the demo's fifo) stays open while its writer lives: it must not keep a stopped simulator running.
  process.stdin.destroy();
  return 0;
}

/** What the demo shows of a request's body: the file of an event binary, the fragments of an inventory update. */
function shown(r: HttpRecord): string {
  if (/\/binaries$/.test(r.path)) return `: ${JSON.stringify(r.body.toString('utf8').split('\r\n\r\n')[1]?.split('\r\n--')[0] ?? '')}`;
  if (r.method === 'PUT' && r.path.startsWith('/inventory/managedObjects/')) return `: ${r.body.toString('utf8').slice(0, 300)}`;
  return '';
}

/** `operation <json>`: a new operation for the first device; its status changes are printed. */
async function command(sim: CloudSimulator, line: string): Promise<void> {
  const m = /^operation\s+(\{.*\})\s*$/.exec(line.trim());
  if (!m) return;
  try {
    const id = await sim.createOperation(JSON.parse(m[1] ?? '{}') as Record<string, unknown>);
    let last = '';
    // After the simulator has applied the message (listeners run before its answers).
    sim.onDeviceMessage(() => setImmediate(() => {
      const op = sim.c8y.operations.get(id);
      const now = `${op?.status ?? ''}${op?.result ? ` ${op.result}` : ''}${op?.failureReason ? ` ${op.failureReason}` : ''}`;
      if (now !== last) process.stdout.write(`[operation ${id}] ${(last = now)}\n`);
    }));
  } catch (err) {
    process.stderr.write(`cloud simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function readLines(input: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buffered += chunk;
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
  });
}

// `node --test dist/test/` runs every file under test/ (NODE_TEST_CONTEXT set): a simulator waiting
// for a signal there would hang the suite, so it only runs when started on purpose.
if (require.main === module && process.env['NODE_TEST_CONTEXT'] === undefined) void run();

function run(): Promise<void> {
  return main().then(
    // Stopped is stopped: an open stdin or a lingering keep-alive socket must not hold the process.
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`cloud simulator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
