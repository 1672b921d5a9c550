import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger';
import { defaultCandidates, loadNative } from '../../../src/native/binding';
import { type ResidentRelease, scheduleResidentPageRelease } from '../../../src/runtime/resident-pages';
import { ManualTime } from '../../helpers/manual-time';

const ok: ResidentRelease = { mappings: 40, bytes: 90 << 20, error: 0, trimmed: true };
const noPageout: ResidentRelease = { mappings: 0, bytes: 0, error: 22, trimmed: true };
const MiB = 1 << 20;

/** A process whose file-backed RSS and business the test sets; a release brings RSS down to 20 MiB. */
function schedule(result: ResidentRelease) {
  const time = new ManualTime(new Date('2026-01-01T00:00:00Z'));
  const state = { fileBytes: 45 * MiB, busy: false };
  const calls: number[] = [];
  const cancel = scheduleResidentPageRelease({
    release: (advice, trim) => {
      assert.equal(advice, 'pageout');
      assert.equal(trim, true);
      calls.push((time.now().getTime() - Date.parse('2026-01-01T00:00:00Z')) / 1000);
      if (result.error === 0) state.fileBytes = 20 * MiB;
      return result;
    },
    timers: time,
    logger: silentLogger(),
    residentFileBytes: () => state.fileBytes,
    busySinceLastCall: () => state.busy,
    firstAfterMs: 10_000,
    checkEveryMs: 30_000,
    regrowthBytes: 4 * MiB,
  });
  return { time, state, calls, cancel };
}

describe('resident page release schedule', () => {
  it('releases 10 s after start-up, then only once pages have grown back and the process is quiet', () => {
    const { time, state, calls, cancel } = schedule(ok);
    time.advance(9_999);
    assert.deepEqual(calls, []);
    time.advance(1);
    assert.deepEqual(calls, [10]);
    // Idle: a little code faults back in, not enough to release again.
    state.fileBytes += 3 * MiB;
    time.advance(120_000);
    assert.deepEqual(calls, [10]);
    // A burst: pages grow back while busy, no release during it.
    state.busy = true;
    state.fileBytes += 10 * MiB;
    time.advance(60_000);
    assert.deepEqual(calls, [10]);
    // Quiet again: the next check releases, once.
    state.busy = false;
    time.advance(30_000);
    assert.deepEqual(calls, [10, 220]);
    time.advance(600_000);
    assert.deepEqual(calls, [10, 220]);
    cancel();
    state.fileBytes += 50 * MiB;
    time.advance(3_600_000);
    assert.deepEqual(calls, [10, 220]);
    assert.equal(time.pending, 0);
  });

  it('stops on a kernel without MADV_PAGEOUT', () => {
    const old = schedule(noPageout);
    old.time.advance(3_600_000);
    assert.deepEqual(old.calls, [10]);
    assert.equal(old.time.pending, 0);
  });
});

/** Resident kB of the read-only mappings of one file in this process (/proc/self/smaps). */
function residentReadOnlyKb(path: string): number {
  let total = 0;
  let inFile = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) inFile = header[2] === path && header[1]?.[1] === '-';
    else if (inFile && line.startsWith('Rss:')) total += Number(/(\d+) kB/.exec(line)?.[1] ?? 0);
  }
  return total;
}

describe('the addon releases clean file-backed pages of the running process', () => {
  const built = defaultCandidates().find((p) => existsSync(p));
  // A private copy: pages of a file that another process maps too are not paged out (the kernel skips them).
  const dir = mkdtempSync(join(tmpdir(), 'tedge-resident-'));
  const copy = join(dir, 'tedge_native.node');
  if (built) {
    copyFileSync(built, copy);
    // Written back first: dirty page-cache pages cannot be dropped, only clean ones.
    const fd = openSync(copy, 'r');
    fsyncSync(fd);
    closeSync(fd);
  }
  const release = built ? loadNative({ candidates: [copy] }).binding?.releaseResidentPages : undefined;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the read-only pages of a loaded file leave RSS, and its code still runs', { skip: release === undefined && 'addon without releaseResidentPages' }, () => {
    const before = residentReadOnlyKb(copy);
    assert.ok(before > 0, 'the copy is mapped and resident');
    const r = release?.('pageout', true);
    assert.ok(r);
    if (r.error === 22 && r.mappings === 0) return; // Linux < 5.4: nothing to measure
    assert.equal(r.error, 0);
    assert.ok(r.mappings > 0 && r.bytes > 0);
    // What release() itself ran of the copy's code is faulted in again at once: a page or two.
    assert.ok(residentReadOnlyKb(copy) < before, `resident kB of the copy ${before} → ${residentReadOnlyKb(copy)}`);
    const again = release?.('cold', false);
    assert.equal(again?.error, 0);
  });
});
