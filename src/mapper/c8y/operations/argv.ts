import { ConversionError } from '../../../core/errors';

/**
 * Splits a command line into words as thin-edge does (the shell-words crate): blanks separate words,
 * '…' is literal, "…" keeps blanks and honours \" \\ \$ \`, a backslash outside quotes escapes the next
 * character. No expansion of any kind: the words are an argv, never given to a shell.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] ?? '')) word += line[++i] ?? '';
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ConversionError(`Invalid command '${line}': it ends with a backslash`);
      word += line[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new ConversionError(`Invalid command '${line}': unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}
