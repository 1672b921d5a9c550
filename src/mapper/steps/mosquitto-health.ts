import type { Message } from '../../core/message';

/**
 * thin-edge's builtin `skip-mosquitto-health-status`: a mosquitto bridge reports its connection
 * as a bare `1`/`0` on `te/<entity>/status/health` (notification_topic), which is not a health
 * message the cloud understands (thin-edge #2236). Like thin-edge, judged by topic shape and
 * payload only, whatever the service is called.
 */
export function isMosquittoBridgeHealth(msg: Message): boolean {
  const levels = msg.topic.split('/');
  if (levels.length !== 7 || levels[5] !== 'status' || levels[6] !== 'health') return false;
  return msg.payload.length === 1 && (msg.payload[0] === 0x30 || msg.payload[0] === 0x31);
}
