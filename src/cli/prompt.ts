import { TedgeError } from '../core/errors';

/**
 * Asks on the terminal, echoing nothing when `hidden` (a password). Only when stdin is a terminal: a
 * script gets a clear error instead of a command waiting for input that never comes.
 */
export function prompt(question: string, opts: { hidden: boolean; write: (s: string) => void }): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new TedgeError('USAGE', `${question.replace(/:\s*$/, '')} is needed and stdin is not a terminal to ask for it`));
  opts.write(question);
  return new Promise((resolve, reject) => {
    let answer = '';
    stdin.setRawMode(opts.hidden);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      opts.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new TedgeError('USAGE', 'interrupted'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}
