/** One member of a tar archive, its name as the archive spells it (pax and GNU long names applied). */
export interface TarEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  readonly mode: number;
  readonly data: Buffer;
  /** The target of a link. */
  readonly linkName: string;
}

const BLOCK = 512;

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** A numeric field: octal digits, or GNU's base-256 (high bit set) for large values. */
function number(block: Buffer, offset: number, length: number, what: string): number {
  const field = block.subarray(offset, offset + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = text(block, offset, length).trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new Error(`not a tar archive (bad ${what} field)`);
  return parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return number(block, 148, 8, 'checksum') === sum;
}

/** pax extended header records: `<length> <key>=<value>\n`. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space === -1 ? NaN : Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new Error('not a tar archive (bad pax header)');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

function kindOf(flag: string): TarEntry['type'] {
  switch (flag) {
    case '0':
    case '\0':
    case '':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/**
 * The members of an uncompressed tar archive (ustar, pax, GNU long names), in archive order. Pure:
 * where they would go on disk is the caller's business. Throws a one-line reason for anything that is
 * not a well-formed archive.
 */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  let at = 0;
  while (at + BLOCK <= archive.length) {
    const block = archive.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) return entries;
    if (!checksumOk(block)) throw new Error(`not a tar archive (bad header checksum at byte ${at})`);
    const size = number(block, 124, 12, 'size');
    const start = at + BLOCK;
    if (start + size > archive.length) throw new Error('truncated tar archive');
    const data = archive.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    const flag = text(block, 156, 1);
    if (flag === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (flag === 'g') continue; // global pax defaults: nothing of them matters here
    if (flag === 'L' || flag === 'K') {
      const value = text(data, 0, data.length);
      if (flag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const prefix = text(block, 257, 6) === 'ustar' ? text(block, 345, 155) : '';
    const header = text(block, 0, 100);
    const name = pax.get('path') ?? longName ?? (prefix === '' ? header : `${prefix}/${header}`);
    const linkName = pax.get('linkpath') ?? longLink ?? text(block, 157, 100);
    entries.push({ name, type: kindOf(flag), mode: number(block, 100, 8, 'mode'), data, linkName });
    longName = undefined;
    longLink = undefined;
    pax = new Map();
  }
  // An archive cut before its two zero blocks still holds whole members: accepted, as tar does.
  if (at < archive.length && archive.subarray(at).some((b) => b !== 0)) throw new Error(entries.length === 0 ? 'not a tar archive' : 'truncated tar archive');
  return entries;
}
