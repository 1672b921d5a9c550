import { TedgeError, errorMessage } from '../core/errors';

const CALLBACKS = ['onStartup', 'onMessage', 'onInterval'] as const;

/** true in the single executable (scripts/package.sh defines it), which ships no TypeScript compiler. */
declare const __TEDGE_SINGLE_EXECUTABLE__: boolean | undefined;

/**
 * A step module as the body of a function that returns its callbacks, ready for a sandbox's vm.Script.
 * `.ts` goes through the TypeScript compiler when it is installed (a development dependency, loaded
 * only for .ts steps). `.js`/`.mjs` take a small rewrite of the export forms steps use (`export function`,
 * `export async function`, `export const`, `export { a as b }`), which needs no compiler at run time.
 * A step is one module: an `import` is refused with a clear error (bundle the step, as for thin-edge).
 */
export function compileStepModule(source: string, path: string): string {
  const js = path.endsWith('.ts') ? transpileTypeScript(source, path) : source;
  const exported = new Map<string, string>();
  const body = js
    .split('\n')
    .map((line) => {
      if (/^\s*import\s*[\w{*'"]/.test(line)) throw new TedgeError('CONFIG_FILE', `${path}: a flow step cannot import other modules (bundle it into one file): ${line.trim()}`);
      let m = /^(\s*)export\s+(async\s+)?function(\s*\*?\s*)([\w$]+)/.exec(line);
      if (m) {
        exported.set(m[4] as string, m[4] as string);
        return line.replace(/export\s+/, '');
      }
      m = /^(\s*)export\s+(const|let|var|class)\s+([\w$]+)/.exec(line);
      if (m) {
        exported.set(m[3] as string, m[3] as string);
        return line.replace(/export\s+/, '');
      }
      m = /^\s*export\s*\{([^}]*)\}\s*;?\s*$/.exec(line);
      if (m) {
        for (const part of (m[1] as string).split(',')) {
          const [local, as] = part.trim().split(/\s+as\s+/);
          if (local) exported.set((as ?? local).trim(), local.trim());
        }
        return '';
      }
      return line;
    })
    .join('\n');
  const exports = CALLBACKS.map((name) => {
    const local = exported.get(name);
    return `${name}: ${local === undefined ? 'undefined' : `typeof ${local} === 'function' ? ${local} : undefined`}`;
  });
  if (!exported.has('onMessage') && !exported.has('onInterval')) {
    throw new TedgeError('CONFIG_FILE', `${path}: a flow step exports onMessage (or onInterval)`);
  }
  return `(function () {'use strict';\n${body}\n;return { ${exports.join(', ')} };\n})()`;
}

/**
 * Throws for a step this build cannot run: a `.ts` step in the single executable. Refused before any
 * lookup: a compiler found by chance (a node_modules above the cwd) would make a flow work on one device only.
 */
export function assertStepLanguageSupported(path: string): void {
  if (path.endsWith('.ts') && typeof __TEDGE_SINGLE_EXECUTABLE__ === 'boolean' && __TEDGE_SINGLE_EXECUTABLE__) {
    throw new TedgeError('CONFIG_FILE', `${path}: the packaged tedge runs .js flow steps only (it has no TypeScript compiler): compile this step to .js`);
  }
}

function transpileTypeScript(source: string, path: string): string {
  assertStepLanguageSupported(path);
  let ts: typeof import('typescript');
  try {
    ts = require('typescript') as typeof import('typescript');
  } catch (cause) {
    throw new TedgeError('CONFIG_FILE', `${path}: a .ts step needs the TypeScript compiler, which is not installed here; compile it to .js`, { cause });
  }
  try {
    // ES module output keeps `export function`, which the rewrite above turns into the callbacks.
    return ts.transpileModule(source, { fileName: path, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
  } catch (cause) {
    throw new TedgeError('CONFIG_FILE', `${path}: ${errorMessage(cause)}`, { cause });
  }
}
