/** Where one top-level member of a JSON object sits in its text: the value spans [start, end). */
export interface MemberSpan {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i] as string)) i++;
  return i;
}

/** Index just after the string literal that opens at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** Index just after the value that starts at `i`. */
function valueEnd(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return stringEnd(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = stringEnd(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (--depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !WS.has(text[j] as string) && text[j] !== ',' && text[j] !== '}') j++;
  return j;
}

/**
 * The top-level members of `text`, which must already be known to be a valid JSON object
 * (JSON.parse accepted it). Lets a step change one member and leave every other byte alone:
 * re-serialising would round numbers like 12345678901234567890 and drop `23.0`'s formatting.
 */
export function topLevelMembers(text: string): { members: MemberSpan[]; open: number } {
  const open = text.indexOf('{');
  const members: MemberSpan[] = [];
  let i = skipWs(text, open + 1);
  while (i < text.length && text[i] === '"') {
    const keyEnd = stringEnd(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const start = skipWs(text, skipWs(text, keyEnd) + 1);
    const end = valueEnd(text, start);
    members.push({ name, start, end });
    i = skipWs(text, end);
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return { members, open };
}

/**
 * Sets a top-level member to `valueJson`: the last member of that name is replaced in place
 * (JSON.parse keeps the last of duplicates), or the member is appended after the last one.
 */
export function setTopLevelMember(text: string, name: string, valueJson: string): string {
  const { members, open } = topLevelMembers(text);
  const existing = members.filter((m) => m.name === name).pop();
  if (existing) return text.slice(0, existing.start) + valueJson + text.slice(existing.end);
  const last = members[members.length - 1];
  const member = `${JSON.stringify(name)}:${valueJson}`;
  if (last === undefined) return text.slice(0, open + 1) + member + text.slice(open + 1);
  return `${text.slice(0, last.end)},${member}${text.slice(last.end)}`;
}

/**
 * setTopLevelMember for a member the object does not have (the caller parsed it): appended after the last
 * member, found from the closing brace instead of scanning every member (the hot path of add-timestamp).
 */
export function appendTopLevelMember(text: string, name: string, valueJson: string): string {
  let end = text.lastIndexOf('}');
  while (end > 0 && WS.has(text[end - 1] as string)) end--;
  const member = `${JSON.stringify(name)}:${valueJson}`;
  return text[end - 1] === '{' ? `${text.slice(0, end)}${member}${text.slice(end)}` : `${text.slice(0, end)},${member}${text.slice(end)}`;
}
