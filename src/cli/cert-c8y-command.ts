import { readFileSync } from 'node:fs';
import { type Command, Argument } from 'commander';
import { TedgeError, errorMessage } from '../core/errors';
import { durationMs } from '../config/value-types';
import { certificateInfo, formatCertificateInfo } from '../certs/inspect';
import { readCertificate } from '../certs/validate';
import { downloadCertificateFromC8y, generateOneTimePassword } from './cert-c8y-ca';
import { uploadCertificateToC8y } from './cert-upload';
import type { CommandContext } from './context';
import { prompt } from './prompt';

interface UploadFlags {
  user?: string;
  password?: string;
  passwordFile?: string;
}

/** The password: --password (thin-edge's; visible in ps), --password-file, else C8Y_PASSWORD, else asked on the terminal. */
async function password(ctx: CommandContext, flags: UploadFlags): Promise<string> {
  if (flags.password !== undefined && flags.passwordFile !== undefined) throw new TedgeError('USAGE', '--password and --password-file exclude each other');
  if (flags.password !== undefined) return flags.password;
  if (flags.passwordFile !== undefined) {
    try {
      return readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new TedgeError('IO', `cannot read the password file ${flags.passwordFile}: ${errorMessage(e)}`, { cause: e });
    }
  }
  const env = ctx.env['C8Y_PASSWORD'];
  if (env !== undefined && env !== '') return env;
  return prompt('Enter password: ', { hidden: true, write: ctx.err });
}

/** `tedge cert upload c8y [--user U] [--password-file F]`. */
export function registerCertUpload(cert: Command, context: () => CommandContext): void {
  cert
    .command('upload')
    .description("upload the device certificate (or the renewed <cert>.new) to the Cumulocity tenant's trusted certificates, so the tenant accepts the device")
    .addArgument(new Argument('<cloud>', 'the cloud: c8y').choices(['c8y']))
    .option('--user <user>', 'Cumulocity user allowed to manage trusted certificates (env C8Y_USER; asked when interactive)')
    .option('--password <password>', 'the password (seen by anyone listing processes: prefer --password-file or C8Y_PASSWORD)')
    .option('--password-file <path>', 'file holding the password (else env C8Y_PASSWORD, else asked when interactive)')
    .action(async (_cloud: string, flags: UploadFlags) => {
      const ctx = context();
      const config = ctx.config();
      const user = flags.user ?? ctx.env['C8Y_USER'] ?? (await prompt('Enter username: ', { hidden: false, write: ctx.err }));
      const result = await uploadCertificateToC8y(config, user, await password(ctx, flags));
      const what = result.renewed ? 'New device certificate' : 'Device certificate';
      ctx.out(result.created ? `${what} uploaded successfully.\n` : `${what} already exists in the cloud.\n`);
    });
}

interface DownloadFlags {
  deviceId?: string;
  oneTimePassword?: string;
  prompt?: boolean;
  retryEvery: string;
  maxTimeout: string;
}

function duration(flag: string, text: string): number {
  try {
    return durationMs(text);
  } catch (cause) {
    throw new TedgeError('USAGE', `invalid ${flag} '${text}': ${(cause as Error).message}`, { cause });
  }
}

/** `tedge cert download c8y --device-id ID [--one-time-password P | --prompt]`: enrollment with the tenant's CA. */
export function registerCertDownload(cert: Command, context: () => CommandContext): void {
  cert
    .command('download')
    .description("get a device certificate signed by the Cumulocity tenant's CA: register the device with a one-time password in Cumulocity, this command polls until it is approved")
    .addArgument(new Argument('<cloud>', 'the cloud: c8y').choices(['c8y']))
    .option('--device-id <id>', 'the device id (CN of the certificate; default device.id)')
    .option('-p, --one-time-password <password>', 'the one-time password given when registering the device (generated and printed when absent)')
    .option('--prompt', 'ask for the one-time password on the terminal')
    .option('--retry-every <duration>', 'how often to ask the tenant', '5s')
    .option('--max-timeout <duration>', 'give up after', '10m')
    .action(async (_cloud: string, flags: DownloadFlags) => {
      const ctx = context();
      const config = ctx.config();
      const deviceId = flags.deviceId ?? config.text('device.id');
      if (deviceId === undefined) throw new TedgeError('USAGE', 'no device id: pass --device-id <id>');
      const given = flags.oneTimePassword ?? (flags.prompt ? await prompt('Enter one-time password: ', { hidden: true, write: ctx.err }) : undefined);
      const oneTimePassword = given ?? generateOneTimePassword();
      ctx.err(`Register the device on ${config.text('c8y.url') ?? 'Cumulocity'}:\n\n    device id:          ${deviceId}\n`);
      if (given === undefined) ctx.err(`    one-time password:  ${oneTimePassword}\n`);
      ctx.err('\n');
      const certPath = await downloadCertificateFromC8y(config, {
        deviceId,
        oneTimePassword,
        retryEveryMs: duration('--retry-every', flags.retryEvery),
        maxTimeoutMs: duration('--max-timeout', flags.maxTimeout),
        clock: ctx.clock,
        log: (line) => ctx.err(`${line}\n`),
      });
      ctx.err('Certificate downloaded successfully\n    => the device can now be connected\n\n');
      ctx.out(formatCertificateInfo(certPath, certificateInfo(readCertificate(certPath)), ctx.clock.now()));
    });
}
