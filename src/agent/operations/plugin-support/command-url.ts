import type { HandlerContext } from '../operation';
import { fileTransferScheme } from '../../transfer/client-tls';
import type { EntityTopicId } from '../../../core/topics';
import { fileTransferUrl } from './file-transfer-url';

/** The tedgeUrl of a command that has none: the agent's file transfer service, as clients reach it. */
export function defaultTedgeUrl(ctx: HandlerContext, run: { readonly entity: EntityTopicId; readonly cmdId: string }, operation: string, type: string): string | undefined {
  return fileTransferUrl({
    scheme: fileTransferScheme(ctx.config),
    host: ctx.config.string('http.client.host'),
    port: ctx.config.number('http.client.port'),
    entity: run.entity,
    operation,
    type,
    cmdId: run.cmdId,
  });
}
