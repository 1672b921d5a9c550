import type { Message } from '../core/message';

/**
 * The local MQTT bus as every component sees it: a port we own, so that unit tests run on
 * MemoryBus and daemons on MqttBus without either knowing the difference.
 *
 * @example
 *   bus.onMessage((m) => console.log(m.topic));
 *   await bus.subscribe(['te/+/+/+/+/m/+']);
 *   await bus.publish(message('te/device/main///m/', '{"t":1}'));
 */
export interface Bus {
  /** Registers the single consumer of inbound messages; call before subscribe. Delivery is in arrival order. */
  onMessage(handler: (msg: Message) => void): void;
  /**
   * The same, for a consumer that acknowledges each message itself (see AckingHandler): with a session
   * opened with manual acks, the broker keeps what was not acknowledged and redelivers it.
   */
  onMessageWithAck(handler: AckingHandler): void;
  subscribe(filters: readonly string[], qos?: 0 | 1 | 2): Promise<void>;
  unsubscribe(filters: readonly string[]): Promise<void>;
  /** Resolves when the broker has the message (PUBACK for QoS 1). */
  publish(msg: Message): Promise<void>;
  /** Whether the broker is reachable now: a stop does not wait for a final status it cannot take. */
  readonly isConnected: boolean;
  /** Connection state changes, so services can republish their health after a broker restart. */
  onConnectionChange(handler: (connected: boolean) => void): void;
  close(): Promise<void>;
}

/** A retained message published by the broker when the client disconnects uncleanly. */
export interface LastWill {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

/**
 * A consumer that acknowledges inbound QoS 1 messages itself: the broker gets the PUBACK only when
 * `ack` is called (e.g. once the message is on disk), so a crash before then means redelivery, not loss.
 * `redelivered` is the MQTT DUP flag: the broker sent this message before, without our PUBACK.
 */
export type AckingHandler = (msg: Message, ack: () => void, redelivered: boolean) => void;
