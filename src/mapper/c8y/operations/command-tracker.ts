import { isTerminal } from '../../../core/commands';

/** The statuses this mapper reports to Cumulocity; all others (init, scheduled, downloading, …) are not reported. */
export type ReportedStatus = 'executing' | 'successful' | 'failed';

export function reportedStatus(status: string): ReportedStatus | undefined {
  return status === 'executing' || status === 'successful' || status === 'failed' ? status : undefined;
}

/**
 * Remembers the cloud operations already turned into commands, and the last status reported per command.
 * Bounded, because ids of completed operations are only kept to drop re-deliveries (e.g. a second `500`).
 */
export class CommandTracker {
  private readonly lastStatus = new Map<string, ReportedStatus>();
  private readonly requested = new Set<string>();

  constructor(private readonly maxRemembered = 10_000) {}

  /** Whether the cloud operation behind this command id was already handled (re-delivered by Cumulocity). */
  isRequested(cmdId: string): boolean {
    return this.requested.has(cmdId);
  }

  /** Records a command created from a cloud operation. */
  request(cmdId: string): void {
    this.requested.add(cmdId);
    // Sets iterate in insertion order: the first entry is the oldest.
    if (this.requested.size > this.maxRemembered) {
      const oldest = this.requested.values().next();
      if (oldest.done !== true) this.requested.delete(oldest.value);
    }
  }

  /**
   * Whether a status update is new: not a repeat of the last reported status and not after a terminal one
   * (executors may republish; Cumulocity rejects moving a finished operation).
   */
  advance(commandTopic: string, status: ReportedStatus): boolean {
    const last = this.lastStatus.get(commandTopic);
    if (last !== undefined && (last === status || isTerminal(last))) return false;
    this.lastStatus.set(commandTopic, status);
    return true;
  }

  /** The command topic was cleared: the command is over, its status no longer needed. */
  cleared(commandTopic: string): void {
    this.lastStatus.delete(commandTopic);
  }
}
