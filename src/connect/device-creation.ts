import { smartrestLine } from '../mapper/c8y/smartrest';
import type { CloudEndpoint } from './cloud-endpoint';
import type { CloudSession } from './connection-check';

/**
 * Step 5 of §3.2: the device is created in Cumulocity before any bridge exists, over the direct
 * connection, so that the mapper's first messages (inventory, 114, 500) find it. Cumulocity answers
 * nothing on success; the PUBACK says the platform has the request. 100 on an existing device is a no-op.
 */
export function deviceCreationLine(endpoint: Pick<CloudEndpoint, 'deviceId' | 'deviceType'>): string {
  return smartrestLine(100, endpoint.deviceId, endpoint.deviceType);
}

export async function createDevice(session: CloudSession): Promise<string> {
  const line = deviceCreationLine(session.endpoint);
  await session.publish('s/us', line, 1);
  return line;
}
