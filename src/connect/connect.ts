import { existsSync, statSync } from 'node:fs';
import { writeFileAtomic, removeFile } from '../certs/files';
import { rfc2822 } from '../certs/inspect';
import { candidatePathOf } from '../certs/paths';
import { candidateCertificate, promoteCandidate } from '../certs/renewal';
import { validateDeviceCertificate } from '../certs/validate';
import type { Clock } from '../core/clock';
import { TedgeError, isTedgeError, type ErrorCode } from '../core/errors';
import type { TedgeConfig } from '../config/tedge-config';
import { CLOUD_NAMES, type Cloud, type CloudEndpoint, endpointAddress, resolveEndpoint } from './cloud-endpoint';
import { type CheckResult, CloudSession, checkConnection } from './connection-check';
import { createDevice } from './device-creation';
import { waitForListening } from './local-broker';
import { BUILT_IN_BRIDGE_CONF, mosquittoBridge, renderMosquittoBridgeConf } from './mosquitto-bridge-conf';
import { StepReporter } from './steps';
import { writeTedgeMosquittoConf } from './tedge-mosquitto-conf';
import type { ServiceManager } from './system-services';

/**
 * `tedge connect <cloud>` (§3.2), in an order that writes nothing until the cloud has answered:
 *
 *   summary → not connected yet → [new certificate: try it] → device certificate → direct mTLS
 *   connection → check (c8y JWT, aws echo, az PUBACK) → c8y: create the device (100) → [promote the
 *   new certificate] → write the bridge file → restart mosquitto, wait until it listens, enable it →
 *   start and enable tedge-mapper-<cloud> → c8y: start and enable tedge-agent
 *
 * `--offline` skips the connection, the check and the device creation. When a service step fails,
 * the bridge file is removed again, so that "connected" never means half-connected and running
 * `tedge connect` again is the fix. Every step prints one line; the reason of a failure is thrown.
 */

export interface ConnectDeps {
  readonly config: TedgeConfig;
  readonly clock: Clock;
  readonly out: (s: string) => void;
  readonly services: ServiceManager;
  /** How long each exchange with the cloud may take (connect, JWT, PUBACK). */
  readonly checkTimeoutMs: number;
  /** How long mosquitto may take to listen after its restart. */
  readonly brokerTimeoutMs?: number;
}

export interface ConnectOptions {
  readonly offline: boolean;
}

export type ConnectResult =
  | { readonly kind: 'connected' }
  /** Connected with the current certificate; the new one (`<cert>.new`) was refused and stays a candidate. */
  | { readonly kind: 'candidate-not-used'; readonly reason: TedgeError };

/** What the cloud or a local check says about a candidate certificate: the candidate was judged. */
const CANDIDATE_VERDICTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CERT_REJECTED', 'CERT_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_KEY_MISMATCH', 'CERT_INVALID']);

const TEDGE_AGENT = 'tedge-agent';
const MOSQUITTO = 'mosquitto';

export async function connectCloud(cloud: Cloud, opts: ConnectOptions, deps: ConnectDeps): Promise<ConnectResult> {
  const endpoint = resolveEndpoint(deps.config, cloud);
  const builtIn = deps.config.boolean('mqtt.bridge.built_in');
  const steps = new StepReporter(deps.out);
  printSummary(`Connecting to ${CLOUD_NAMES[cloud]} with:`, endpoint, builtIn, deps);
  // As thin-edge: only the built-in bridge tunnels MQTT through proxy.address; mosquitto's bridge connects directly.
  if (!builtIn && deps.config.text('proxy.address') !== undefined) {
    steps.warning('checking the proxy', 'proxy.address is set but the mosquitto bridge does not use it: its MQTT connection to the cloud goes directly (mqtt.bridge.built_in=true uses the proxy)');
  }

  if (existsSync(endpoint.bridgeConfPath)) {
    throw new TedgeError('CONNECT_ALREADY_CONNECTED', `already connected to ${CLOUD_NAMES[cloud]} (${endpoint.bridgeConfPath} exists); check it with: tedge connect ${cliArgs(endpoint)} --test, or run: tedge disconnect ${cliArgs(endpoint)}`);
  }

  let refusedCandidate: TedgeError | undefined;
  if (opts.offline) {
    await validateStep(endpoint, steps, deps);
    if (candidateCertificate(endpoint) !== undefined) steps.skipped('trying the new certificate', '--offline; it is tried at the next tedge connect');
    steps.skipped('checking the connection', '--offline');
    if (cloud === 'c8y') steps.skipped('creating the device in Cumulocity', '--offline');
  } else {
    const opened = await openSession(endpoint, steps, deps);
    refusedCandidate = opened.refusedCandidate;
    try {
      await checkStep(opened.session, steps, endpoint);
      if (cloud === 'c8y') await steps.run(`creating the device in Cumulocity`, () => createDevice(opened.session), (line) => `100 sent on s/us: ${line}`);
    } finally {
      await opened.session.close();
    }
    if (opened.usedCandidate) await steps.run(`replacing ${endpoint.certPath} with the new certificate`, () => promoteCandidate(endpoint));
  }

  await writeBridgeAndStartServices(endpoint, builtIn, steps, deps);
  steps.line(`Connected to ${CLOUD_NAMES[cloud]}${builtIn ? '' : ' (mosquitto bridge)'}`);
  if (refusedCandidate === undefined) return { kind: 'connected' };
  return {
    kind: 'candidate-not-used',
    reason: new TedgeError(
      refusedCandidate.code,
      `connected with the current certificate; the new certificate ${candidatePathOf(endpoint.certPath)} was not used: ${refusedCandidate.message}`,
      { cause: refusedCandidate },
    ),
  };
}

/** `tedge connect <cloud> --test` (§3.2 step 3): connected means a bridge file, and a cloud that answers. */
export async function testConnection(cloud: Cloud, deps: ConnectDeps): Promise<void> {
  const endpoint = resolveEndpoint(deps.config, cloud);
  const steps = new StepReporter(deps.out);
  printSummary(`Checking the connection to ${CLOUD_NAMES[cloud]} with:`, endpoint, deps.config.boolean('mqtt.bridge.built_in'), deps);
  if (!existsSync(endpoint.bridgeConfPath)) {
    throw new TedgeError('CONNECT_NOT_CONNECTED', `not connected to ${CLOUD_NAMES[cloud]}: there is no ${endpoint.bridgeConfPath}; connect with: tedge connect ${cliArgs(endpoint)}`);
  }
  await validateStep(endpoint, steps, deps);
  const session = await steps.run(`connecting to ${endpointAddress(endpoint)}`, () => CloudSession.open(endpoint, endpoint.certPath, deps.checkTimeoutMs));
  try {
    await checkStep(session, steps, endpoint);
  } finally {
    await session.close();
  }
  steps.line(`Connection to ${CLOUD_NAMES[cloud]} is working`);
}

function printSummary(title: string, endpoint: CloudEndpoint, builtIn: boolean, deps: ConnectDeps): void {
  const rows: Array<[string, string]> = [
    ['device id', endpoint.deviceId],
    ['cloud host', endpointAddress(endpoint)],
    ['auth type', 'certificate'],
    ['certificate file', endpoint.certPath],
    ['root certificates', `${endpoint.rootCertPath} (${endpoint.rootCertKey})`],
    ['bridge', builtIn ? 'built-in' : 'mosquitto'],
    ...(endpoint.proxy ? [['proxy', `${endpoint.proxy.host}:${endpoint.proxy.port}`] as [string, string]] : []),
    ['service manager', `${deps.services.name} (${deps.services.system.source})`],
  ];
  deps.out(`${title}\n${rows.map(([k, v]) => `\t${`${k}:`.padEnd(19)}${v}\n`).join('')}`);
}

async function validateStep(endpoint: CloudEndpoint, steps: StepReporter, deps: ConnectDeps): Promise<void> {
  await steps.run(`validating the device certificate ${endpoint.certPath}`, () => validateDeviceCertificate(endpoint, deps.clock), (info) => `valid until ${rfc2822(info.notAfter)}`);
}

/**
 * Step 4 of §3.2, two-phase renewal (certs/renewal.ts): a candidate `<cert>.new` is tried first. The
 * cloud refusing it (or it being unusable here) is survived with the current certificate; any other
 * failure (network, our CA) judged neither certificate and is the command's failure.
 */
async function openSession(endpoint: CloudEndpoint, steps: StepReporter, deps: ConnectDeps): Promise<{ session: CloudSession; usedCandidate: boolean; refusedCandidate?: TedgeError }> {
  const candidate = candidateCertificate(endpoint);
  let refusedCandidate: TedgeError | undefined;
  if (candidate !== undefined) {
    const tried = await steps.attempt(
      `connecting to ${endpointAddress(endpoint)} with the new certificate ${candidate.candidatePath}`,
      () => {
        validateDeviceCertificate({ certPath: candidate.candidatePath, keyPath: candidate.keyPath }, deps.clock);
        return CloudSession.open(endpoint, candidate.candidatePath, deps.checkTimeoutMs);
      },
      (error) => isTedgeError(error) && CANDIDATE_VERDICTS.has(error.code),
    );
    if (tried.ok) return { session: tried.value, usedCandidate: true };
    refusedCandidate = tried.error as TedgeError;
  }
  await validateStep(endpoint, steps, deps);
  const session = await steps.run(`connecting to ${endpointAddress(endpoint)}`, () => CloudSession.open(endpoint, endpoint.certPath, deps.checkTimeoutMs));
  return { session, usedCandidate: false, ...(refusedCandidate !== undefined ? { refusedCandidate } : {}) };
}

async function checkStep(session: CloudSession, steps: StepReporter, endpoint: CloudEndpoint): Promise<CheckResult> {
  const what = endpoint.cloud === 'c8y' ? 'checking the connection (JWT request on s/uat, 71 on s/dat)' : endpoint.cloud === 'aws' ? 'checking the connection (test message echo)' : 'checking the connection (twin request)';
  const result = await steps.run(what, () => checkConnection(session), (r) => r.detail);
  // thin-edge warns when the JWT comes from another tenant than c8y.url: the certificate is registered there.
  if (result.tenantHost !== undefined && result.tenantHost !== endpoint.urlHost) {
    steps.warning('checking the tenant', `the JWT was issued by ${result.tenantHost}, but c8y.url is ${endpoint.urlHost}; the device certificate is registered with that tenant`);
  }
  return result;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function writeBridgeAndStartServices(endpoint: CloudEndpoint, builtIn: boolean, steps: StepReporter, deps: ConnectDeps): Promise<void> {
  const text = builtIn ? BUILT_IN_BRIDGE_CONF : renderMosquittoBridgeConf(mosquittoBridge(endpoint, { rootCertIsDirectory: isDirectory(endpoint.rootCertPath) }));
  await steps.run(`writing ${endpoint.bridgeConfPath}`, () => writeFileAtomic(endpoint.bridgeConfPath, text, 0o644), () => (builtIn ? 'built-in bridge' : 'mosquitto bridge'));
  // thin-edge's listeners (mqtt.bind.*, mqtt.external.*), read by mosquitto from the same include_dir.
  if (deps.config.boolean('mqtt.bind.enabled')) await steps.run('writing the local broker configuration', () => writeTedgeMosquittoConf(deps.config), (path) => path);
  try {
    const services = deps.services;
    const available = await steps.run(`checking the service manager ${services.name}`, () => services.isAvailable(), (ok) => (ok ? undefined : 'not available'));
    if (!available) {
      const wanted = [MOSQUITTO, endpoint.mapperService, ...(endpoint.cloud === 'c8y' ? [TEDGE_AGENT] : [])];
      steps.skipped('starting services', `${services.name} is not available here; restart ${wanted.join(', ')} yourself, or set the [init] commands of ${services.system.source}`);
      return;
    }
    await steps.run(`restarting ${MOSQUITTO}`, () => services.run('restart', MOSQUITTO));
    const host = deps.config.string('mqtt.client.host');
    const port = deps.config.number('mqtt.client.port');
    await steps.run(`waiting for ${MOSQUITTO} to listen on ${host}:${port}`, () => waitForListening(host, port, deps.brokerTimeoutMs ?? 10_000));
    await steps.run(`enabling ${MOSQUITTO}`, () => services.run('enable', MOSQUITTO));
    for (const service of [endpoint.mapperService, ...(endpoint.cloud === 'c8y' ? [TEDGE_AGENT] : [])]) {
      await steps.run(`starting ${service}`, () => services.run('start', service));
      await steps.run(`enabling ${service}`, () => services.run('enable', service));
    }
  } catch (error) {
    removeFile(endpoint.bridgeConfPath);
    steps.line(`removed ${endpoint.bridgeConfPath}: run tedge connect ${cliArgs(endpoint)} again once this is fixed`);
    throw error;
  }
}

/** `c8y`, `c8y --profile second`: the arguments that name this connection in a hint. */
function cliArgs(endpoint: CloudEndpoint): string {
  return endpoint.profileName === undefined ? endpoint.cloud : `${endpoint.cloud} --profile ${endpoint.profileName}`;
}
