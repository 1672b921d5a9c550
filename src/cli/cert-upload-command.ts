import { readFileSync } from 'node:fs';
import { type Command, Argument } from 'commander';
import { TedgeError, errorMessage } from '../core/errors';
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
