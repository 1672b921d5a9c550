import type { Bus } from '../../bus/bus';
import { errorMessage } from '../../core/errors';
import { message } from '../../core/message';
import { type EntityTopicId, topicFor } from '../../core/topics';
import type { Logger } from '../../log/logger';
import type { HandlerContext, OperationHandler } from './operation';

/**
 * The retained capability of each operation on `te/<device>/cmd/<op>` (§1.5). A handler without a
 * capability right now (no plugin) gets its topic cleared, so a stale capability from an earlier
 * run does not promise what the agent cannot do. Refreshes of one operation are serialised so an
 * older answer never overwrites a newer one.
 */
export class CapabilityPublisher {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly topicRoot: string,
    private readonly device: EntityTopicId,
    private readonly logger: Logger,
  ) {}

  publish(handler: OperationHandler, ctx: HandlerContext): Promise<void> {
    const previous = this.chains.get(handler.operation) ?? Promise.resolve();
    const next = previous.then(() => this.publishNow(handler, ctx));
    this.chains.set(handler.operation, next.catch(() => {}));
    return next;
  }

  private async publishNow(handler: OperationHandler, ctx: HandlerContext): Promise<void> {
    const topic = topicFor(this.device, { kind: 'command-capability', operation: handler.operation }, this.topicRoot);
    let capability;
    try {
      capability = await handler.capability(ctx);
    } catch (err) {
      ctx.reportError(`cannot tell the capability of ${handler.operation}: ${errorMessage(err)}`);
      capability = undefined;
    }
    const payload = capability === undefined ? '' : JSON.stringify(capability);
    await this.bus.publish(message(topic, payload, { qos: 1, retain: true }));
    this.logger.debug({ operation: handler.operation, capability: payload }, capability === undefined ? 'capability cleared' : 'capability published');
  }
}
