import { csvFields } from '../../../src/mapper/c8y/operations/smartrest-requests';
/** One message between the simulated Cumulocity and the device, from the cloud's point of view. */
export interface SimMessage {
  readonly topic: string;
  readonly payload: string;
}

export type OperationStatus = 'PENDING' | 'EXECUTING' | 'SUCCESSFUL' | 'FAILED';

export interface SimOperation {
  readonly id: string;
  status: OperationStatus;
  readonly body: Record<string, unknown>;
  failureReason?: string;
  result?: string;
}

/** Topics Cumulocity publishes to devices: the simulator's own messages, not the device's. */
export const CLOUD_TO_DEVICE = new Set(['s/ds', 's/dat', 's/e', 's/dt', 'devicecontrol/notifications', 'error']);

/**
 * What Cumulocity answers a device over MQTT, as far as thin-edge uses it: 100 device creation,
 * JWT on s/uat → 71, 500 → every PENDING operation as a JSON notification, and operation status
 * updates (501-506). Pure: a device message in, the cloud's answers out.
 */
export class C8yBehaviour {
  readonly devices: Array<{ id: string; type: string }> = [];
  readonly operations = new Map<string, SimOperation>();
  /** How many times a device asked for its pending operations (500). */
  pendingRequests = 0;
  /** External id (c8y_Serial) → managed object id, for devices (100), child devices (101) and services (102). */
  readonly identities = new Map<string, string>();
  /** JWTs handed out on s/dat and still accepted by the REST side (see expireTokens). */
  readonly validTokens = new Set<string>();
  /** How many JWTs were requested on s/uat. */
  tokenRequests = 0;
  private nextId = 1000;
  private nextManagedObject = 9000;

  constructor(
    private readonly opts: { readonly tenantHost: string; readonly deviceId: () => string | undefined },
  ) {}

  /** A new operation for the device, PENDING until it reports 501/504; returns its id and notification. */
  createOperation(fragments: Record<string, unknown>, externalId: string): { id: string; notification: SimMessage } {
    const id = String(this.nextId++);
    const body = { id, status: 'PENDING', description: `operation ${id}`, creationTime: new Date().toISOString(), externalSource: { externalId, type: 'c8y_Serial' }, ...fragments };
    this.operations.set(id, { id, status: 'PENDING', body });
    return { id, notification: notification(body) };
  }

  handle(msg: SimMessage): SimMessage[] {
    if (msg.topic === 's/uat') {
      this.tokenRequests++;
      const token = this.jwt();
      this.validTokens.add(token);
      return [{ topic: 's/dat', payload: `71,${token}` }];
    }
    if (msg.topic !== 's/us' && !msg.topic.startsWith('s/us/')) return [];
    const out: SimMessage[] = [];
    for (const record of smartrestRecords(msg.payload)) out.push(...this.smartrest(record));
    return out;
  }

  private smartrest(record: string): SimMessage[] {
    let fields: string[];
    try {
      fields = csvFields(record);
    } catch {
      return []; // Cumulocity answers a malformed record with an error the device ignores.
    }
    switch (fields[0]) {
      case '100':
        this.devices.push({ id: fields[1] ?? '', type: fields[2] ?? 'thin-edge.io' });
        this.identify(fields[1]);
        return [];
      case '101':
      case '102':
        this.identify(fields[1]);
        return [];
      case '500':
        this.pendingRequests++;
        return [...this.operations.values()].filter((o) => o.status === 'PENDING').map((o) => notification(o.body));
      case '504':
        this.setStatus(fields[1], 'EXECUTING');
        return [];
      case '505':
        this.setStatus(fields[1], 'FAILED', fields.slice(2).join(','));
        return [];
      case '506':
        this.setStatus(fields[1], 'SUCCESSFUL', fields.slice(2).join(','));
        return [];
      case '501':
      case '502':
      case '503': {
        // By name: the oldest operation with that fragment not yet in a final state.
        const op = [...this.operations.values()].find((o) => o.body[fields[1] ?? ''] !== undefined && (o.status === 'PENDING' || o.status === 'EXECUTING'));
        const status = fields[0] === '501' ? 'EXECUTING' : fields[0] === '502' ? 'FAILED' : 'SUCCESSFUL';
        this.setStatus(op?.id, status, fields.slice(2).join(','));
        return [];
      }
      default:
        return [];
    }
  }

  /** Every JWT handed out so far is refused from now on (401), as when the tenant's tokens expire. */
  expireTokens(): void {
    this.validTokens.clear();
  }

  /** The managed object of an external id, created on first sight. */
  identify(externalId: string | undefined): string | undefined {
    if (externalId === undefined || externalId === '') return undefined;
    let id = this.identities.get(externalId);
    if (id === undefined) {
      id = String(this.nextManagedObject++);
      this.identities.set(externalId, id);
    }
    return id;
  }

  private setStatus(id: string | undefined, status: OperationStatus, detail?: string): void {
    const op = id === undefined ? undefined : this.operations.get(id);
    if (op === undefined) return;
    op.status = status;
    if (status === 'FAILED') op.failureReason = detail;
    if (status === 'SUCCESSFUL' && detail) op.result = detail;
  }

  /** Unsigned, but shaped like Cumulocity's: `tedge connect --test` reads the tenant from `iss`. */
  private jwt(): string {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: this.opts.tenantHost, ten: 't-sim', sub: `device_${this.opts.deviceId() ?? 'unknown'}`, iat: now, exp: now + 3600, jti: this.tokenRequests })}.c2lt`;
  }
}

function notification(body: Record<string, unknown>): SimMessage {
  return { topic: 'devicecontrol/notifications', payload: JSON.stringify(body) };
}

/** The records of a SmartREST message: lines, except that a newline inside a quoted field belongs to the field. */
function smartrestRecords(payload: string): string[] {
  const records: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= payload.length; i++) {
    if (payload[i] === '"') quoted = !quoted;
    else if (i === payload.length || (payload[i] === '\n' && !quoted)) {
      const record = payload.slice(start, i).trim();
      if (record !== '') records.push(record);
      start = i + 1;
    }
  }
  return records;
}
