import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { type OutgoingProxy, openTunnel } from '../../../runtime/outgoing-proxy';

export { type OutgoingProxy, bypassesProxy, connectHeaders, parseProxyAddress } from '../../../runtime/outgoing-proxy';

/**
 * An HTTPS agent whose connections go through an HTTP CONNECT tunnel; TLS (server check, client
 * certificate) is end to end with the target, the proxy sees only the host and port.
 */
export class TunnelingAgent extends https.Agent {
  constructor(
    private readonly proxy: OutgoingProxy,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent accepts the asynchronous (callback) form of createConnection.
  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, callback: (err: Error | null, socket?: Duplex) => void): Duplex | undefined {
    const host = options.host ?? 'localhost';
    openTunnel(this.proxy, host, options.port ?? 443).then(
      (socket) => {
        // SNI carries names only, never an IP address.
        const secure = tls.connect({ ...options, socket, ...(isIP(host) === 0 ? { servername: options.servername ?? host } : {}) });
        const failed = (e: Error): void => callback(e);
        secure.once('error', failed);
        secure.once('secureConnect', () => {
          secure.off('error', failed);
          callback(null, secure);
        });
      },
      (e: Error) => callback(e),
    );
    return undefined;
  }
}
