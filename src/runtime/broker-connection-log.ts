import type { Bus } from '../bus/bus';
import type { Logger } from '../log/logger';

/**
 * Logs the local broker going away and coming back (a mosquitto restart, a broker killed by the OOM
 * killer): the one line a user looks for when a daemon went quiet. MqttBus reconnects by itself.
 */
export function watchBrokerConnection(bus: Bus, logger: Logger, where: string): void {
  let lostAt: number | undefined;
  bus.onConnectionChange((connected) => {
    if (!connected) {
      lostAt = Date.now();
      logger.warn(`lost the connection to the local MQTT broker at ${where}: reconnecting`);
    } else if (lostAt !== undefined) {
      logger.info(`reconnected to the local MQTT broker at ${where} after ${Math.round((Date.now() - lostAt) / 1000)} s`);
      lostAt = undefined;
    }
  });
}
