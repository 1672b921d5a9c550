import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One ustar header block (512 bytes) for a file or a directory. */
function header(name: string, size: number, mode: number, mtimeS: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(512);
  const field = (offset: number, length: number, text: string): void => void block.write(text, offset, length, 'utf8');
  const octal = (offset: number, length: number, value: number): void => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  // ustar splits names longer than 100 bytes into prefix/name at a '/'.
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`path too long for a tar archive: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  field(0, 100, base);
  octal(100, 8, mode & 0o7777);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtimeS);
  block.fill(' ', 148, 156); // the checksum counts itself as spaces
  field(156, 1, type);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  field(345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/**
 * A .tar.gz of directory `dir`, its entries named `<root>/<relative path>` (what `tar -xzf` recreates):
 * thin-edge's diagnostic bundle. Regular files and directories only; links and sockets are skipped.
 */
export function tarGzDirectory(dir: string, root: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (path: string, name: string): void => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      parts.push(header(`${name}/`, 0, stat.mode, Math.floor(stat.mtimeMs / 1000), '5'));
      for (const entry of readdirSync(path).sort()) walk(join(path, entry), `${name}/${entry}`);
    } else if (stat.isFile()) {
      const data = readFileSync(path);
      parts.push(header(name, data.length, stat.mode, Math.floor(stat.mtimeMs / 1000), '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  };
  walk(dir, root);
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}
