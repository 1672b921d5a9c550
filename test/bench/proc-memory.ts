import { readFileSync } from 'node:fs';

/**
 * What /proc says of a running process's memory, for the footprint benchmarks: one reader of smaps_rollup,
 * smaps and stat, so that every figure they print is taken the same way.
 */

export interface Memory {
  readonly rss: number;
  readonly pss: number;
  readonly anonymous: number;
  readonly privateClean: number;
}

/** smaps_rollup of a process, in bytes. */
export function memory(pid: number): Memory {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('Rss'), pss: kb('Pss'), anonymous: kb('Anonymous'), privateClean: kb('Private_Clean') };
}

export interface Faults {
  readonly minflt: number;
  readonly majflt: number;
  readonly threads: number;
  readonly cpuTicks: number;
}

/** Fields of /proc/<pid>/stat (after the command name, which may contain spaces). */
export function faults(pid: number): Faults {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i - 3]);
  return { minflt: n(10), majflt: n(12), threads: n(20), cpuTicks: n(14) + n(15) };
}

/** Resident file-backed bytes per mapped file (/proc/<pid>/smaps), largest first. */
export function fileBackedByPath(pid: number): Array<[string, number]> {
  const totals = new Map<string, number>();
  let path = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S{4} \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) path = header[1] !== '0' && header[2]?.startsWith('/') ? header[2] : '';
    else if (path !== '' && line.startsWith('Rss:')) {
      totals.set(path, (totals.get(path) ?? 0) + Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}
