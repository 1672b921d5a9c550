/**
 * Splits a command line into argv items with POSIX shell quoting rules (as the `shell-words` crate that
 * thin-edge uses): blanks separate words; '…' keeps everything literally; "…" keeps everything but lets
 * a backslash escape `"`, `\`, `$`, `` ` `` and a newline; a backslash outside quotes escapes the next
 * character. Nothing else is special: no variables, globs, pipes, `;` or `$(…)` — there is no shell.
 * The workflow engine splits a command *before* substituting templates into each item, so a payload
 * value can never become two items or a command of its own.
 */
export class ShellWordsError extends Error {}

export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`missing closing quote (') in: ${line}`);
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new ShellWordsError(`missing closing quote (") in: ${line}`);
        const d = line[i] as string;
        if (d === '"') break;
        if (d === '\\' && i + 1 < line.length) {
          const e = line[i + 1] as string;
          if (e === '\n') {
            i += 2;
            continue;
          }
          if (e === '"' || e === '\\' || e === '$' || e === '`') {
            word += e;
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ShellWordsError(`a trailing backslash in: ${line}`);
      const e = line[i + 1] as string;
      // An escaped newline joins lines, as in a shell.
      if (e !== '\n') word += e;
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
