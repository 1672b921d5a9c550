import { Argument, type Command } from 'commander';
import type { CommandContext } from './context';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One node of the command tree: the words that may follow it. */
interface Node {
  readonly path: readonly string[];
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
}

/** Every command path of the program with its subcommands and long/short options (hidden ones left out). */
export function commandTree(program: Command): Node[] {
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string[]): void => {
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    const options = cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
    nodes.push({ path, subcommands: subs.map((c) => c.name()), options: [...options, '--help'] });
    for (const sub of subs) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return nodes;
}

/** Words are command and option names: no quoting needed, but never let one break the script. */
function word(w: string): string {
  if (!/^[A-Za-z0-9_.:@/-]+$/.test(w)) throw new Error(`cannot complete '${w}'`);
  return w;
}

function bashScript(nodes: readonly Node[]): string {
  const known = nodes.filter((n) => n.path.length > 0).map((n) => `"${n.path.map(word).join(' ')}"`);
  const cases = nodes.map((n) => `    "${n.path.map(word).join(' ')}") words="${[...n.subcommands, ...n.options].map(word).join(' ')}" ;;`);
  return [
    '# tedge completions for bash: source it, or put it in /etc/bash_completion.d/tedge',
    '_tedge() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" path="" next words i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "${COMP_WORDS[i]}" in -*) continue ;; esac',
    '    next="${path:+$path }${COMP_WORDS[i]}"',
    '    case "$next" in',
    `      ${known.join('|')}) path="$next" ;;`,
    '    esac',
    '  done',
    '  case "$path" in',
    ...cases,
    '    *) words="" ;;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -o default -F _tedge tedge',
    '',
  ].join('\n');
}

function zshScript(nodes: readonly Node[]): string {
  // zsh runs bash completion functions through bashcompinit: one tree, one behaviour.
  return ['#compdef tedge', '# tedge completions for zsh: put it in a directory of $fpath as _tedge', 'autoload -U +X bashcompinit && bashcompinit', bashScript(nodes)].join('\n');
}

function fishScript(nodes: readonly Node[]): string {
  const lines = ['# tedge completions for fish: put it in ~/.config/fish/completions/tedge.fish', 'complete -c tedge -f'];
  for (const n of nodes) {
    const condition = n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${word(n.path[n.path.length - 1] ?? '')}`;
    for (const sub of n.subcommands) lines.push(`complete -c tedge -n '${condition}' -a ${word(sub)}`);
    for (const opt of n.options) {
      const flag = opt.startsWith('--') ? `-l ${word(opt.slice(2))}` : `-s ${word(opt.slice(1))}`;
      lines.push(`complete -c tedge -n '${condition}' ${flag}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, program: Command): string {
  const nodes = commandTree(program);
  switch (shell) {
    case 'bash':
      return bashScript(nodes);
    case 'zsh':
      return zshScript(nodes);
    case 'fish':
      return fishScript(nodes);
  }
}

/** `tedge completions bash|zsh|fish`: the script on stdout, generated from the command tree itself. */
export function registerCompletionsCommand(program: Command, context: () => CommandContext): void {
  program
    .command('completions')
    .description('print a shell completion script: tedge completions bash > /etc/bash_completion.d/tedge')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      context().out(completionScript(shell, program));
    });
}
