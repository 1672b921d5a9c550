import { type BasicCredentials, basicHeader } from './credentials';
import type { JwtSource } from './jwt';

/**
 * The Authorization header of requests to Cumulocity. `header()` is the cached value; `refresh(stale)`
 * after a 401 gets a new one unless another request already replaced the stale one (thin-edge's
 * "not_matching" token manager), so a burst of 401s costs one JWT request.
 */
export interface C8yAuth {
  header(): Promise<string>;
  refresh(stale: string): Promise<string>;
}

export class JwtAuth implements C8yAuth {
  private cached: string | undefined;

  constructor(private readonly jwt: JwtSource) {}

  async header(): Promise<string> {
    return this.cached ?? this.renew();
  }

  async refresh(stale: string): Promise<string> {
    if (this.cached !== undefined && this.cached !== stale) return this.cached;
    return this.renew();
  }

  private async renew(): Promise<string> {
    this.cached = `Bearer ${await this.jwt.fetch()}`;
    return this.cached;
  }
}

/** Basic auth from the credentials file, read again on refresh so a corrected file is picked up. */
export class BasicAuth implements C8yAuth {
  private cached: string | undefined;

  constructor(private readonly read: () => BasicCredentials) {}

  async header(): Promise<string> {
    this.cached ??= basicHeader(this.read());
    return this.cached;
  }

  async refresh(): Promise<string> {
    this.cached = basicHeader(this.read());
    return this.cached;
  }
}

/** No credentials of our own: the local proxy (the CLI's way to Cumulocity) adds them. */
export class NoAuth implements C8yAuth {
  async header(): Promise<string> {
    return '';
  }

  async refresh(): Promise<string> {
    return '';
  }
}
