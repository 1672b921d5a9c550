import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = /[*?[]/;

/**
 * Pure: one path segment of a glob to a RegExp. `*` any run of characters but `/`, `?` one character,
 * `[abc]`/`[a-z]`/`[!x]` a class; the rest literal. A leading dot is matched by `*` (the Rust glob crate's
 * default, so thin-edge's patterns select the same files).
 */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] ?? '';
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The regular files an absolute glob names, sorted; `**` matches any depth of directories (also none). */
export function expandGlob(pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '');
  let current = ['/'];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const base of current) {
      if (segment === '**') next.push(base, ...subdirs(base));
      else if (!MAGIC.test(segment)) next.push(join(base, segment));
      else {
        const re = segmentRegExp(segment);
        for (const name of entries(base)) if (re.test(name)) next.push(join(base, name));
      }
    }
    current = last ? next : next.filter(isDir);
  }
  return [...new Set(current.filter(isFile))].sort();
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function subdirs(dir: string, depth = 0): string[] {
  if (depth > 32) return [];
  const found: string[] = [];
  for (const name of entries(dir)) {
    const p = join(dir, name);
    if (isDir(p)) found.push(p, ...subdirs(p, depth + 1));
  }
  return found;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
