import { type Message, message, payloadText } from '../../../core/message';

export interface JwtOptions {
  /** Local Cumulocity prefix (`c8y.bridge.topic_prefix`): requests on `<prefix>/s/uat`, answers on `<prefix>/s/dat`. */
  readonly prefix: string;
  readonly publish: (msg: Message) => Promise<void>;
  /** How long one request waits for its `71` (thin-edge: 20 s), and how many requests are made (3). */
  readonly timeoutMs?: number;
  readonly attempts?: number;
}

/**
 * Device JWTs from Cumulocity over MQTT: an empty message on `s/uat`, the answer `71,<jwt>` on `s/dat`
 * (certificate authentication; the bridge carries both topics). Concurrent callers share one request.
 * The token is never logged.
 */
export class JwtSource {
  private waiting: Array<(jwt: string) => void> = [];
  private inFlight: Promise<string> | undefined;

  constructor(private readonly opts: JwtOptions) {}

  get responseTopic(): string {
    return `${this.opts.prefix}/s/dat`;
  }

  /** Feeds a message of `<prefix>/s/dat`; other SmartREST lines there (errors) are ignored. */
  onResponse(msg: Message): void {
    const line = payloadText(msg).trim();
    if (!line.startsWith('71,')) return;
    const jwt = line.slice(3);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w(jwt);
  }

  /** A fresh token (a new request each call, joined by those made while one is pending). */
  fetch(): Promise<string> {
    this.inFlight ??= this.request().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async request(): Promise<string> {
    const attempts = this.opts.attempts ?? 3;
    const timeoutMs = this.opts.timeoutMs ?? 20_000;
    for (let i = 0; i < attempts; i++) {
      let resolveJwt: (jwt: string) => void = () => undefined;
      const answered = new Promise<string>((resolve) => (resolveJwt = resolve));
      this.waiting.push(resolveJwt);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
      try {
        await this.opts.publish(message(`${this.opts.prefix}/s/uat`, '', { qos: 0 }));
      } catch {
        // Not connected to the local broker yet: wait and ask again.
      }
      const jwt = await Promise.race([answered, late]);
      clearTimeout(timer);
      this.waiting = this.waiting.filter((w) => w !== resolveJwt);
      if (jwt !== undefined) return jwt;
    }
    throw new Error(`no JWT from Cumulocity on ${this.responseTopic} after ${attempts} requests on ${this.opts.prefix}/s/uat (is the bridge connected?)`);
  }
}
