import { ConversionError } from '../../core/errors';

/**
 * thin-edge's builtin `set-aws-topic`: AWS IoT allows at most 7 slashes in a topic, so the four
 * levels of the entity topic id become one `:`-joined level, empty levels left out:
 * `te/device/main///m/env` → `aws/td/device:main/m/env`,
 * `te/device/child/service/svc/e/login` → `aws/td/device:child:service:svc/e/login`.
 * Only measurements, events, alarms and health have an AWS topic; anything else is refused
 * (thin-edge drops it silently; we report it, so that a widened `aws.topics` is noticed).
 */
export function awsTopic(teTopic: string, prefix: string): string {
  const levels = teTopic.split('/');
  const source = levels.slice(1, 5).filter((level) => level !== '').join(':');
  const [, , , , , kind, type] = levels;
  if (levels.length === 7 && type !== undefined) {
    if (kind === 'm' || kind === 'e' || kind === 'a') return `${prefix}/td/${source}/${kind}/${type}`;
    if (kind === 'status' && type === 'health') return `${prefix}/td/${source}/status/health`;
  }
  throw new ConversionError(`No AWS topic for '${teTopic}': only te/<entity>/m/<type>, e/<type>, a/<type> and status/health are mapped`, {
    code: 'UNKNOWN_CHANNEL',
  });
}
