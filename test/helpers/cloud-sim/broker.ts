import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForPort } from '../mosquitto';
import type { SimPki } from './pki';

/**
 * The simulated cloud's MQTT endpoint: mosquitto with one mTLS listener for devices (client
 * certificate required, its CN is the user name, as Cumulocity) and one plain loopback listener
 * for the simulator's own "cloud side" client. Stopped and started again on the same ports to
 * simulate an outage.
 */
export class SimBroker {
  private process: ChildProcess | undefined;
  readonly confPath: string;
  readonly logPath: string;

  constructor(
    private readonly dir: string,
    readonly tlsPort: number,
    readonly adminPort: number,
    pki: SimPki,
    extraConfig = '',
  ) {
    this.confPath = join(dir, 'mosquitto.conf');
    // In the world-writable db directory: mosquitto, started as root, writes its log as user `mosquitto`.
    this.logPath = join(dir, 'db', 'mosquitto.log');
    writeFileSync(
      this.confPath,
      [
        'per_listener_settings true',
        // The simulator's own session (and what the device sent meanwhile) survives an outage restart.
        'persistence true',
        `persistence_location ${join(dir, 'db')}/`,
        `log_dest file ${this.logPath}`,
        'log_type error',
        'log_type warning',
        'log_type notice',
        // Cumulocity accepts bursts: do not let the simulator be the bottleneck of a benchmark.
        'max_queued_messages 1000000',
        extraConfig,
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${pki.trustBundle}`,
        `certfile ${pki.serverCert}`,
        `keyfile ${pki.serverKey}`,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
        `listener ${adminPort} 127.0.0.1`,
        'allow_anonymous true',
        '',
      ].join('\n'),
    );
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.process = spawn(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', this.confPath], { stdio: 'ignore' });
    await Promise.all([waitForPort(this.tlsPort, 10_000), waitForPort(this.adminPort, 10_000)]);
  }

  /** SIGTERM and wait: every device connection drops, as in a cloud outage. */
  async stop(): Promise<void> {
    const proc = this.process;
    this.process = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}
