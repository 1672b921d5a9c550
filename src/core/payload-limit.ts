/**
 * The payload limit of a cloud, and which local topics it applies to (those its bridge rules send there):
 * the bridge works it out from its rules, the mapper holds its outputs to it.
 */
export interface CloudPayloadLimit {
  readonly bytes: number;
  readonly key: string;
  appliesTo(topic: string): boolean;
}
