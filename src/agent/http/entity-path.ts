import type { EntityTopicId } from '../../core/topics';

/** What a path under `/te/v1/entities` addresses. */
export type EntityResource =
  | { readonly kind: 'collection' }
  | { readonly kind: 'entity'; readonly topicId: EntityTopicId }
  | { readonly kind: 'twin'; readonly topicId: EntityTopicId }
  | { readonly kind: 'twin-fragment'; readonly topicId: EntityTopicId; readonly key: string }
  | { readonly kind: 'config'; readonly topicId: EntityTopicId; readonly key?: string }
  | { readonly kind: 'refused'; readonly status: 400 | 404; readonly message: string };

/**
 * Parses the part of the path after `/te/v1/entities`, as thin-edge does: 2 to 4 segments name an
 * entity with the missing trailing segments empty (`device/child0` is `device/child0//`), then
 * `twin` and an optional fragment key, or `config` and an optional key (read-only). Segments are percent-decoded; one that decodes to a topic
 * separator or wildcard is refused, so a path can only name what a topic could.
 */
export function parseEntityPath(rest: string): EntityResource {
  if (rest === '' || rest === '/') return { kind: 'collection' };
  if (!rest.startsWith('/')) return { kind: 'refused', status: 404, message: 'Not Found' };
  const segments: string[] = [];
  for (const raw of rest.slice(1).split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { kind: 'refused', status: 400, message: `Invalid entity path: malformed percent-encoding in '${raw}'` };
    }
    if (/[/+#\u0000]/.test(seg)) return { kind: 'refused', status: 400, message: `Invalid entity topic id segment: '${seg}'` };
    segments.push(seg);
  }
  const [a, b, c, d, channel, ...more] = segments;
  if (a === undefined || a === '' || b === undefined) return { kind: 'refused', status: 404, message: 'Not Found' };
  const topicId = [a, b, c ?? '', d ?? ''].join('/');
  if (channel === undefined) return { kind: 'entity', topicId };
  if (channel === 'config' && more.length <= 1) return more[0] === undefined || more[0] === '' ? { kind: 'config', topicId } : { kind: 'config', topicId, key: more[0] };
  if (channel !== 'twin') return { kind: 'refused', status: 404, message: `Actions on channel: ${channel} are not supported` };
  if (more.length === 0 || (more.length === 1 && more[0] === '')) return { kind: 'twin', topicId };
  if (more.length === 1 && more[0] !== undefined) return { kind: 'twin-fragment', topicId, key: more[0] };
  return {
    kind: 'refused',
    status: 400,
    message: `Invalid twin key: '${more.join('/')}'. Keys that are empty, containing '/', '+', '#' or starting with '@' are not allowed`,
  };
}
