/**
 * MQTT topic-filter matching with `+` and `#` (MQTT 3.1.1 §4.7), used by MemoryBus and routing tables.
 * Filters starting with a wildcard do not match `$`-topics [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), filter.startsWith('+') || filter.startsWith('#'), topic.split('/'), topic.startsWith('$'));
}

function levelsMatch(f: readonly string[], wildFirst: boolean, t: readonly string[], dollarTopic: boolean): boolean {
  if (dollarTopic && wildFirst) return false;
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * `topicMatches` against several filters, split once: for routing tables that see every message
 * (a flow engine matching each input against each flow's filters).
 */
export function filtersMatcher(filters: readonly string[]): (topic: string) => boolean {
  const split = filters.map((f) => ({ parts: f.split('/'), wildFirst: f.startsWith('+') || f.startsWith('#') }));
  return (topic) => {
    const t = topic.split('/');
    const dollar = topic.startsWith('$');
    return split.some(({ parts, wildFirst }) => levelsMatch(parts, wildFirst, t, dollar));
  };
}

/** True for a syntactically valid filter: `#` only last and alone in its level, `+` alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}
