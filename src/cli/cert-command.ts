import { type Command, Option } from 'commander';
import { profileOption } from '../config/profiles';
import type { TedgeConfig } from '../config/tedge-config';
import { durationMs } from '../config/value-types';
import { TedgeError } from '../core/errors';
import { createDeviceCertificate, createDeviceCsr, removeDeviceCertificate } from '../certs/device-certificate';
import { certificateInfo, formatCertificateInfo, humanDuration, rfc2822 } from '../certs/inspect';
import { candidatePathOf, deviceCertPaths } from '../certs/paths';
import { type RenewalState, renewalState, renewSelfSigned } from '../certs/renewal';
import { readCertificate } from '../certs/validate';
import { renewWithC8yCa } from './cert-c8y-ca';
import { registerCertDownload, registerCertUpload } from './cert-c8y-command';
import type { CommandContext } from './context';
import { EXIT_FAILURE, EXIT_USAGE, ExitStatus } from './exit-codes';

const CLOUDS = ['c8y', 'az', 'aws'] as const;
const CAS = ['self-signed', 'c8y'] as const;
type Ca = (typeof CAS)[number];

interface CsrOptions {
  deviceId?: string;
  outputPath?: string;
}

interface ShowOptions {
  certPath?: string;
  new?: boolean;
}

interface RenewOptions {
  ca?: Ca;
  csrPath?: string;
}

/** `tedge cert ...`: wiring only; the logic is in src/certs. */
export function registerCertCommand(program: Command, context: () => CommandContext): void {
  const cert = program.command('cert').description('create, show, renew and remove the device certificate');

  cert
    .command('create')
    .description('create a self-signed device certificate with CN = device id (and a private key, mode 0600, if there is none)')
    .requiredOption('--device-id <id>', 'the device id: CN of the certificate, then read-only device.id')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .action(async (cloud: string | undefined, opts: { deviceId: string } & ProfileFlag) => {
      const ctx = context();
      const created = await createDeviceCertificate(certConfig(ctx, cloud, opts), opts.deviceId, ctx.clock);
      ctx.out(`Certificate created for device '${created.deviceId}': ${created.certPath}\n`);
      ctx.out(`${created.keyCreated ? 'New private key' : 'Private key (reused)'}: ${created.keyPath}\n`);
    });

  cert
    .command('create-csr')
    .description('create a certificate signing request with the device key (created if there is none)')
    .option('--device-id <id>', 'CN of the request (default: device.id)')
    .option('--output-path <path>', 'where to write the request (default: device.csr_path)')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .action(async (cloud: string | undefined, opts: CsrOptions & ProfileFlag) => {
      const ctx = context();
      const csr = await createDeviceCsr(certConfig(ctx, cloud, opts), { ...(opts.deviceId !== undefined ? { deviceId: opts.deviceId } : {}), ...(opts.outputPath !== undefined ? { outputPath: opts.outputPath } : {}) });
      ctx.out(`Certificate signing request created for device '${csr.deviceId}': ${csr.csrPath}\n`);
    });

  cert
    .command('show')
    .description('print the device certificate: device id, subject, issuer, validity, serial number, thumbprint')
    .option('--cert-path <path>', 'certificate to show (default: device.cert_path)')
    .option('--new', 'show the renewal candidate <cert_path>.new instead')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .action((cloud: string | undefined, opts: ShowOptions & ProfileFlag) => {
      const ctx = context();
      const certPath = opts.certPath ?? deviceCertPaths(certConfig(ctx, cloud, opts)).certPath;
      const path = opts.new ? candidatePathOf(certPath) : certPath;
      const cert = readCertificate(path, opts.new ? 'create one with: tedge cert renew' : undefined);
      ctx.out(formatCertificateInfo(path, certificateInfo(cert), ctx.clock.now()));
    });

  cert
    .command('remove')
    .description('remove the device certificate, its private key and a renewal candidate')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .action((cloud: string | undefined, opts: ProfileFlag) => {
      const ctx = context();
      const removed = removeDeviceCertificate(certConfig(ctx, cloud, opts));
      ctx.out(removed.length === 0 ? 'There is no certificate to remove\n' : `Removed: ${removed.join(', ')}\n`);
    });

  cert
    .command('renew')
    .description('write a renewed certificate to <cert_path>.new; it replaces the current one once a connection with it succeeds')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addOption(new Option('--ca <ca>', 'who signs: self-signed (default for a self-signed certificate) or c8y').choices(CAS))
    .option('--csr-path <path>', 'where to write the request sent to the CA (with --ca c8y)')
    .action(async (cloud: string | undefined, opts: RenewOptions & ProfileFlag) => {
      const ctx = context();
      const config = certConfig(ctx, cloud, opts);
      const ca = opts.ca ?? (certificateInfo(readCertificate(deviceCertPaths(config).certPath)).selfSigned ? 'self-signed' : 'c8y');
      const candidate = ca === 'c8y' ? await renewWithC8yCa(config) : await renewSelfSigned(config, ctx.clock);
      ctx.out(`New certificate written to ${candidate.candidatePath}\n`);
      const upload = ca === 'c8y' ? '' : 'upload it to the cloud, then ';
      ctx.out(`It replaces ${candidate.certPath} after a successful connection: ${upload}run tedge reconnect ${cloud ?? '<cloud>'}${opts.profile !== undefined ? ` --profile ${opts.profile}` : ''}\n`);
    });

  registerCertUpload(cert, context);
  registerCertDownload(cert, context);

  cert
    .command('needs-renewal')
    .description('exit 0 when the certificate expires within certificate.validity.minimum_duration, 1 when it does not or a renewed one waits for a connection, 2 on error')
    .argument('[cloud]', CLOUD_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .option('--cert-path <path>', 'certificate to check (default: device.cert_path)')
    .action((cloud: string | undefined, opts: { certPath?: string } & ProfileFlag) => {
      const ctx = context();
      let due: boolean;
      try {
        const config = certConfig(ctx, cloud, opts);
        const minimum = config.string('certificate.validity.minimum_duration');
        const certPath = opts.certPath ?? deviceCertPaths(config).certPath;
        const now = ctx.clock.now();
        const state = renewalState(certPath, durationMs(minimum), now);
        due = state.kind === 'due';
        ctx.out(`${renewalLine(state, minimum, now)}\n`);
      } catch (error) {
        throw new ExitStatus(EXIT_USAGE, error); // 2 = error: 1 already means "no renewal needed"
      }
      if (!due) throw new ExitStatus(EXIT_FAILURE);
    });
}

function renewalLine(state: RenewalState, minimum: string, now: Date): string {
  const left = state.current.notAfter.getTime() - now.getTime();
  const when = left < 0 ? `expired on ${rfc2822(state.current.notAfter)}` : `expires on ${rfc2822(state.current.notAfter)}, in ${humanDuration(left)}`;
  switch (state.kind) {
    case 'not-due':
      return `Certificate does not need renewal: it ${when}`;
    case 'due':
      return `Certificate needs renewal: it ${when} (certificate.validity.minimum_duration = ${minimum})`;
    case 'pending':
      return `Certificate renewal pending: it ${when}; the renewed certificate (valid up to ${rfc2822(state.candidate.notAfter)}) waits for a successful connection`;
  }
}

interface ProfileFlag {
  profile?: string;
}

const CLOUD_HELP = 'cloud the certificate is for (c8y, az, aws): its <cloud>.device.* paths when set, else device.*';
const PROFILE_HELP = 'the cloud profile (with a cloud): c8y.profiles.<name>.device.* when set (env TEDGE_CLOUD_PROFILE)';

/** The configuration a certificate command works in: the device's, or one connection's (cloud and profile). */
function certConfig(ctx: CommandContext, cloud: string | undefined, flags: ProfileFlag): TedgeConfig {
  checkCloud(cloud);
  const profile = profileOption(flags.profile, cloud === undefined ? {} : ctx.env);
  if (profile !== undefined && cloud === undefined) throw new TedgeError('USAGE', '--profile needs a cloud: tedge cert <command> c8y --profile <name>');
  const config = ctx.config();
  return cloud === undefined ? config : config.forCloud(cloud as (typeof CLOUDS)[number], profile);
}

function checkCloud(cloud: string | undefined): void {
  if (cloud !== undefined && !(CLOUDS as readonly string[]).includes(cloud)) {
    throw new TedgeError('USAGE', `unknown cloud '${cloud}': expected one of ${CLOUDS.join(', ')}`);
  }
}
