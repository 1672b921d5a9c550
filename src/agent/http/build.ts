import { join } from 'node:path';
import type { TedgeConfig } from '../../config/tedge-config';
import type { Logger } from '../../log/logger';
import type { Service } from '../../runtime/service';
import type { EntityRequests } from './entity-api';
import { FileTransfer } from './file-transfer';
import { AgentHttpService } from './server';
import { httpTlsOptions } from './tls-options';

/**
 * The agent HTTP service from the config: only the main device's agent builds it (child agents use the
 * main device's service through http.client.host/port). Bad TLS settings fail here, before anything starts.
 */
export function buildAgentHttpService(config: TedgeConfig, entities: EntityRequests, logger: Logger): Service {
  const log = logger.child({ component: 'http' });
  return new AgentHttpService({
    address: config.string('http.bind.address'),
    port: config.number('http.bind.port'),
    tls: httpTlsOptions({ certPath: config.text('http.cert_path'), keyPath: config.text('http.key_path'), caPath: config.text('http.ca_path') }),
    files: new FileTransfer({ root: join(config.string('data.path'), 'file-transfer'), maxBytes: config.number('http.file_transfer.max_bytes') }, log),
    entities,
    logger: log,
  });
}
