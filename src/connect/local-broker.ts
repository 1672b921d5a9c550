import { connect } from 'node:net';
import { TedgeError } from '../core/errors';

/**
 * After `restart mosquitto` the broker needs a moment before it accepts connections, and the mapper
 * started next would only log connection errors meanwhile: wait until a TCP connection succeeds.
 */
export function waitForListening(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        if (Date.now() >= deadline) {
          reject(new TedgeError('MQTT_CONNECT', `the local MQTT broker does not listen on ${host}:${port} (${error.code ?? error.message}) ${timeoutMs / 1000} s after its restart; check mqtt.client.host and mqtt.client.port`, { cause: error }));
        } else {
          setTimeout(attempt, 100);
        }
      });
    };
    attempt();
  });
}
