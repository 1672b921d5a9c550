import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCommand } from '../../../../src/mapper/c8y/operations/exec-runner';

describe('custom operation commands: runCommand', () => {
  it('runs an argv without a shell: stdout, stderr and the exit code', async () => {
    assert.deepEqual(await runCommand(['/bin/echo', 'a; echo b', '$HOME'], 5000), { exitCode: 0, stdout: 'a; echo b $HOME\n', stderr: '' });
    assert.deepEqual(await runCommand(['/bin/sh', '-c', 'echo oops >&2; exit 3'], 5000), { exitCode: 3, stdout: '', stderr: 'oops\n' });
  });

  it('a missing program and a timeout are reasons, not crashes', async () => {
    const missing = await runCommand(['/no/such/program'], 5000);
    assert.ok('error' in missing && /cannot run \/no\/such\/program/.test(missing.error), JSON.stringify(missing));
    const slow = await runCommand(['/bin/sleep', '5'], 100);
    assert.deepEqual(slow, { error: '/bin/sleep timed out after 0.1 s and was killed' });
  });
});
