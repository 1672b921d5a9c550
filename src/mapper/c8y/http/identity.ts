import type { C8yHttpClient } from './c8y-client';

/**
 * External id (c8y_Serial) → managed object id, which REST objects reference as `source: {id}`.
 * Cached: the mapping of a device never changes; a failed lookup is not cached.
 */
export class IdentityCache {
  private readonly ids = new Map<string, string>();

  constructor(private readonly client: C8yHttpClient) {}

  async internalId(externalId: string, signal?: AbortSignal): Promise<string> {
    const known = this.ids.get(externalId);
    if (known !== undefined) return known;
    const answer = await this.client.json('GET', `/identity/externalIds/c8y_Serial/${encodeURIComponent(externalId)}`, undefined, signal);
    const mo = answer['managedObject'];
    const id = typeof mo === 'object' && mo !== null ? (mo as Record<string, unknown>)['id'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`Cumulocity knows no managed object with the external id '${externalId}'`);
    this.ids.set(externalId, String(id));
    return String(id);
  }
}
