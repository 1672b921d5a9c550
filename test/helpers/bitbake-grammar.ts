import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Parser = require('web-tree-sitter');
import { REPO_ROOT } from './paths';

/**
 * A syntax check of BitBake files with the tree-sitter grammar the BitBake language server ships
 * (npm language-server-bitbake: tree-sitter-bitbake.wasm), run by web-tree-sitter. No bitbake is
 * available offline: this catches syntax errors only, not variable expansion, inherits or QA checks.
 */
const LSB_VERSION = '2.10.0';
const TOOLS = join(REPO_ROOT, 'build', 'tools');

/** The grammar, fetched once with `npm pack` (the ordinary npm client) into build/tools. */
export function bitbakeWasm(): string {
  const dir = join(TOOLS, `language-server-bitbake-${LSB_VERSION}`);
  const wasm = join(dir, 'package', 'tree-sitter-bitbake.wasm');
  if (!existsSync(wasm)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', '--silent', `language-server-bitbake@${LSB_VERSION}`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('tar', ['xzf', `language-server-bitbake-${LSB_VERSION}.tgz`], { cwd: dir });
  }
  return wasm;
}

export interface SyntaxError {
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

let parser: Promise<Parser> | undefined;

async function load(): Promise<Parser> {
  await Parser.init();
  const language = await Parser.Language.load(bitbakeWasm());
  const p = new Parser();
  p.setLanguage(language);
  return p;
}

/** ERROR and MISSING nodes of the parse tree, 1-based positions; empty when the file parses. */
export async function bitbakeSyntaxErrors(source: string): Promise<SyntaxError[]> {
  parser ??= load();
  const tree = (await parser).parse(source);
  const errors: SyntaxError[] = [];
  const visit = (node: Parser.SyntaxNode): void => {
    if (node.type === 'ERROR' || node.isMissing) {
      errors.push({ line: node.startPosition.row + 1, column: node.startPosition.column + 1, text: node.isMissing ? `missing ${node.type}` : node.text.slice(0, 60) });
      return;
    }
    if (node.hasError) for (const child of node.children) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return errors;
}
