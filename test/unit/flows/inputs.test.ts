import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FlowInputs, commandArgv } from '../../../src/flows/inputs';
import { EngineUnderTest } from './engine-support';

const ECHO = 'export function onMessage(m) { return { topic: "out/" + m.topic, payload: m.payload }; }';

async function until(t: EngineUnderTest, predicate: (lines: string[]) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate(t.lines)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got:\n${t.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('file and process inputs', () => {
  let t: EngineUnderTest;
  let inputs: FlowInputs;
  afterEach(async () => {
    inputs.stop();
    await t.close();
  });

  it('a followed file gives one message per appended line, from where it was when the flow started', async () => {
    t = new EngineUnderTest();
    const log = join(t.dir, 'app.log');
    writeFileSync(log, 'old line\n');
    t.write({ 'tail.toml': `input.file.path = "${log}"\ninput.file.topic = "app"\nsteps = [{ script = "echo.js" }]\n`, 'echo.js': ECHO });
    await t.engine.sync();
    inputs = new FlowInputs(t.engine, t.logger);
    inputs.sync(t.engine.definitions());
    appendFileSync(log, 'first\nsecond\npart');
    await until(t, (l) => l.length >= 2, 'two lines');
    appendFileSync(log, 'ial\n');
    await until(t, (l) => l.length >= 3, 'the completed line');
    assert.deepEqual(t.take(), ['[out/app] first', '[out/app] second', '[out/app] partial']);
  });

  it('a command followed, and a command run at an interval (argv, from the flow directory)', async () => {
    t = new EngineUnderTest();
    t.write({
      'proc.toml': 'steps = [{ script = "echo.js" }]\n[[input.process]]\ncommand = "sh ./lines.sh"\ntopic = "once"\n[[input.process]]\ncommand = "echo tick"\ntopic = "every"\ninterval = "1s"\n',
      'lines.sh': 'echo a\necho b\n',
      'echo.js': ECHO,
    });
    await t.engine.sync();
    inputs = new FlowInputs(t.engine, t.logger);
    inputs.sync(t.engine.definitions());
    await until(t, (l) => l.includes('[out/once] b') && l.filter((x) => x === '[out/every] tick').length >= 2, 'both commands');
    assert.deepEqual(t.lines.filter((l) => l.startsWith('[out/once]')), ['[out/once] a', '[out/once] b']);
  });

  it('commands are split into argv, never given to a shell', () => {
    assert.deepEqual(commandArgv('  journalctl --no-pager   --follow ; rm -rf / '), ['journalctl', '--no-pager', '--follow', ';', 'rm', '-rf', '/']);
  });
});
