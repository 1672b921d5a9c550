import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };
import { TedgeError } from '../core/errors';

/**
 * The one TOML parser of the project (system.toml, and the workflow and operation files thin-edge
 * writes in TOML): smol-toml, TOML 1.0, no dependencies. Its package ships CommonJS (dist/index.cjs)
 * but declares its types as ESM only, which `module: node16` refuses to `import` from a CommonJS
 * file; the types are taken in import mode and the module is required, which is what node runs anyway.
 */
const smol = require('smol-toml') as typeof SmolToml;

export type TomlTable = Record<string, unknown>;

/** Parses a TOML document; CONFIG_FILE naming the file, line and column on a syntax error. */
export function parseToml(text: string, source: string): TomlTable {
  try {
    return smol.parse(text) as TomlTable;
  } catch (cause) {
    const where = cause instanceof smol.TomlError ? ` (line ${cause.line}, column ${cause.column})` : '';
    const first = String((cause as Error).message).split('\n')[0] ?? '';
    throw new TedgeError('CONFIG_FILE', `invalid TOML in ${source}${where}: ${first}`, { cause });
  }
}

/** TOML text of a table (smol-toml's writer: tables as [a.b] headers, arrays inline). */
export function stringifyToml(table: TomlTable): string {
  return `${smol.stringify(table)}\n`;
}
