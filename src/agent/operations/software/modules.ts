/**
 * The software module model of thin-edge's sm-plugin protocol and the pure parts of `list`:
 * the TSV a plugin prints and the include/exclude/max_packages filter the agent applies to it.
 */

/** One installed module as reported by a plugin's `list`. */
export interface SoftwareModule {
  readonly name: string;
  readonly version?: string;
}

export type ModuleAction = 'install' | 'remove';

/** One requested change, as a plugin receives it (after the agent downloaded `url` to `file`). */
export interface ModuleUpdate {
  readonly action: ModuleAction;
  readonly name: string;
  readonly version?: string;
  readonly url?: string;
  /** Local file of a downloaded `url`, passed with `--file` / as the 4th update-list field. */
  readonly file?: string;
}

/**
 * Parses `list` output: one `name<TAB>version` per line, the version (and its tab) optional,
 * empty lines skipped, CRLF tolerated. A line without a name means the plugin prints something
 * else than the protocol: that is an error, not an empty name in the software list.
 */
export function parseModuleList(stdout: string): SoftwareModule[] {
  // U+FFFD: bytes that were not UTF-8 (the output was decoded leniently).
  if (stdout.includes('\uFFFD')) throw new Error('the list output is not UTF-8 text');
  const modules: SoftwareModule[] = [];
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    const [name = '', version = ''] = line.split('\t');
    if (name.trim() === '') throw new Error(`line ${i + 1} of the list output has no module name: ${JSON.stringify(line.slice(0, 80))}`);
    if (/[\u0000-\u001f\u007f]/.test(name + version)) throw new Error(`line ${i + 1} of the list output has control characters: ${JSON.stringify(line.slice(0, 80))}`);
    modules.push(version === '' ? { name } : { name, version });
  }
  return modules;
}

export interface ListFilter {
  /** software.plugin.include: names kept even when excluded. */
  readonly include?: RegExp;
  /** software.plugin.exclude: names left out. */
  readonly exclude?: RegExp;
  /** software.plugin.max_packages: at most this many modules; 0 (or less) keeps them all. */
  readonly maxPackages: number;
}

/**
 * thin-edge's rule (plugin_sm/src/plugin.rs): with neither regex every module stays; otherwise a
 * module stays when it matches `include` or does not match `exclude`, where a missing `exclude`
 * excludes everything (so `include` alone is an allow-list) and a missing `include` includes nothing.
 * Then the first `maxPackages`.
 */
export function filterModules(modules: readonly SoftwareModule[], filter: ListFilter): SoftwareModule[] {
  let kept: SoftwareModule[] = [...modules];
  if (filter.include !== undefined || filter.exclude !== undefined) {
    const include = filter.include;
    const exclude = filter.exclude;
    kept = kept.filter((m) => (include !== undefined && include.test(m.name)) || (exclude !== undefined && !exclude.test(m.name)));
  }
  return filter.maxPackages > 0 ? kept.slice(0, filter.maxPackages) : kept;
}

/** Compiles a config regex; an invalid one is a config error worth naming. Empty text: no filter. */
export function configRegex(key: string, text: string | undefined): RegExp | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return new RegExp(text);
  } catch (err) {
    throw new Error(`${key} is not a valid regular expression: ${(err as Error).message}`);
  }
}
