/**
 * Finds the record a cloud refuses. A cloud refuses a record by closing the connection (Cumulocity
 * for a packet over its limit), so the refusal looks like any lost connection and the outbox would
 * resend the same record first after every reconnect, for ever. Pure: the bridge reports events.
 *
 * After a connection is lost with records in flight, the bridge sends one record at a time until it is
 * past the last of them ("careful" mode); a loss with exactly one record in flight is a strike against
 * that record, and `strikesToRefuse` strikes in a row make it poison: it is moved aside. With one record
 * in flight, an unrelated outage hits the same record again only if it recurs exactly while that record
 * is in flight, so a healthy record is not taken for poison.
 */
export class PoisonDetector {
  /** Careful while records up to this sequence number are sent again. */
  private carefulUpTo = 0;
  private strikes = new Map<number, number>();

  constructor(private readonly strikesToRefuse = 3) {}

  /** How many records may be in flight now, given the normal window. */
  window(normal: number): number {
    return this.carefulUpTo > 0 ? 1 : normal;
  }

  /** The connection was lost with these records unacknowledged. Returns the sequence number of a record now judged poison. */
  lost(inFlight: readonly number[]): number | undefined {
    if (inFlight.length === 0) return undefined;
    this.carefulUpTo = Math.max(this.carefulUpTo, ...inFlight);
    if (inFlight.length > 1) return undefined;
    const seq = inFlight[0] as number;
    const strikes = (this.strikes.get(seq) ?? 0) + 1;
    this.strikes = new Map([[seq, strikes]]); // only the current suspect's count matters
    if (strikes < this.strikesToRefuse) return undefined;
    this.strikes.clear();
    return seq;
  }

  /** The cloud acknowledged `seq`: it was not poison, and past the suspects normal sending resumes. */
  delivered(seq: number): void {
    this.strikes.delete(seq);
    if (seq >= this.carefulUpTo) this.carefulUpTo = 0;
  }

  /** `seq` was moved aside (or dropped): careful mode ends past it as after a delivery. */
  removed(seq: number): void {
    this.delivered(seq);
  }
}
