import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Argument, type Command } from 'commander';
import { TedgeError, errorMessage } from '../core/errors';
import { parseJsonObject } from '../core/json';
import { C8yEvents, IdentityCache } from '../mapper/c8y/http';
import type { CommandContext } from './context';
import { c8yProxyClient } from './local-http';

interface UploadFlags {
  file: string;
  mimeType: string;
  type: string;
  text?: string;
  json?: string;
  deviceId?: string;
}

/**
 * `tedge upload c8y --file F` (thin-edge's upload/c8y.rs): an event for the device with the file attached,
 * through the local proxy (which authenticates); prints the event id.
 */
export function registerUploadCommand(program: Command, context: () => CommandContext): void {
  program
    .command('upload')
    .description('upload a file to the cloud')
    .addArgument(new Argument('<cloud>', 'the cloud: c8y').choices(['c8y']))
    .requiredOption('--file <path>', 'the file to upload (streamed)')
    .option('--mime-type <mime>', 'MIME type of the file', 'application/octet-stream')
    .option('--type <type>', 'type of the event', 'tedge_UploadedFile')
    .option('--text <text>', 'text of the event (default: "Uploaded file: <file>")')
    .option('--json <object>', 'extra fragments of the event, as a JSON object')
    .option('--device-id <xid>', 'external id of the device or child device the event is for (default: device.id)')
    .action(async (_cloud: string, flags: UploadFlags) => {
      const ctx = context();
      const config = ctx.config();
      let size: number;
      try {
        size = statSync(flags.file).size;
      } catch (e) {
        throw new TedgeError('IO', `Failed to open file: ${flags.file}: ${errorMessage(e)}`, { cause: e });
      }
      const fragments = flags.json === undefined ? {} : parseJsonObject(flags.json, '--json');
      const client = c8yProxyClient(config);
      try {
        const events = new C8yEvents(client, new IdentityCache(client));
        const eventId = await events.create({ externalId: flags.deviceId ?? config.deviceId(), type: flags.type, text: flags.text ?? `Uploaded file: "${basename(flags.file)}"`, time: ctx.clock.now().toISOString(), fragments });
        await events.attach(eventId, { file: createReadStream(flags.file), size, filename: basename(flags.file), mimeType: flags.mimeType, fields: { type: flags.mimeType } });
        ctx.out(`${eventId}\n`);
      } finally {
        client.close();
      }
    });
}
