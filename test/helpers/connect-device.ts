import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTedge } from '../../src/cli/program';
import type { CloudSimulator } from './cloud-sim';

export interface TedgeRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const ACTIONS = ['restart', 'stop', 'start', 'enable', 'disable', 'is_active'] as const;

/**
 * A device config dir for `tedge connect` tests: a system.toml whose service commands append
 * `<action> <service>` to calls.log (so a test sees which ran, and none touches the host's
 * services), the simulator as Cumulocity (and as Azure and AWS), and the local broker port.
 */
export class ConnectDevice {
  private constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  static create(sim: CloudSimulator, localBrokerPort: number, env: Record<string, string> = {}): ConnectDevice {
    const dir = mkdtempSync(join(tmpdir(), 'tedge-connect-it-'));
    const endpoint = { URL: '127.0.0.1', MQTT: sim.mqttEndpoint, ROOT_CERT_PATH: sim.caPath };
    const clouds = Object.fromEntries(['C8Y', 'AZ', 'AWS'].flatMap((c) => Object.entries(endpoint).map(([k, v]) => [`TEDGE_${c}_${k}`, v])));
    const device = new ConnectDevice(dir, { ...clouds, TEDGE_MQTT_CLIENT_PORT: String(localBrokerPort), ...env });
    device.writeSystemToml();
    return device;
  }

  writeSystemToml(opts: { failing?: string } = {}): void {
    const script = join(this.dir, 'record.sh');
    writeFileSync(script, `#!/bin/sh\necho "$*" >> '${this.callsLog}'\n[ "$1" = "${opts.failing ?? '-'}" ] && exit 1\nexit 0\n`);
    chmodSync(script, 0o755);
    const lines = ['[init]', 'name = "recorder"', 'is_available = ["/bin/true"]', ...ACTIONS.map((a) => `${a} = ["${script}", "${a}", "{}"]`)];
    writeFileSync(join(this.dir, 'system.toml'), `${lines.join('\n')}\n`);
  }

  get callsLog(): string {
    return join(this.dir, 'calls.log');
  }

  /** The service commands run so far, as `<action> <service>`. */
  calls(): string[] {
    return existsSync(this.callsLog) ? readFileSync(this.callsLog, 'utf8').split('\n').filter((l) => l !== '') : [];
  }

  clearCalls(): void {
    rmSync(this.callsLog, { force: true });
  }

  get certPath(): string {
    return join(this.dir, 'device-certs', 'tedge-certificate.pem');
  }

  bridgeConf(cloud: 'c8y' | 'az' | 'aws' = 'c8y'): string {
    return join(this.dir, 'mosquitto-conf', `${cloud}-bridge.conf`);
  }

  /** `tedge --config-dir <dir> ...args`, in-process. */
  async tedge(args: readonly string[], env: Record<string, string> = {}): Promise<TedgeRun> {
    let out = '';
    let err = '';
    const code = await runTedge(['--config-dir', this.dir, ...args], { out: (s) => (out += s), err: (s) => (err += s), env: { ...this.env, ...env }, version: '9.9.9' });
    return { code, out, err };
  }

  /** `tedge cert create`, then the simulator trusts the certificate (as `tedge cert upload c8y` would). */
  async createTrustedCertificate(sim: CloudSimulator, deviceId: string): Promise<void> {
    const created = await this.tedge(['cert', 'create', '--device-id', deviceId]);
    assert.equal(created.code, 0, created.err);
    await sim.trustCertificate(readFileSync(this.certPath, 'utf8'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** stderr is exactly one `error: ...` line matching `pattern`. */
export function assertOneErrorLine(run: TedgeRun, pattern: RegExp): void {
  const lines = run.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one error line, got:\n${run.err}\nstdout:\n${run.out}`);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', pattern);
}
