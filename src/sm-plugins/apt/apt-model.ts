/**
 * The pure part of tedge-apt-plugin: reading dpkg-query and update-list input, and building the
 * apt-get argv (thin-edge's plugins/tedge_apt_plugin, same options and package syntax).
 */

/** `dpkg-query -W -f` format: the status tells installed packages from removed ones with config files left. */
export const DPKG_QUERY_FORMAT = '${Package}\\t${Version}\\t${Maintainer}\\t${Status}\\n';

export interface ListFilters {
  /** apt.name / --name: regex on the package name, anchored at its start. */
  readonly name?: string;
  /** apt.maintainer / --maintainer: regex on the maintainer, anchored at its start. */
  readonly maintainer?: string;
}

function startRegex(text: string | undefined, what: string): RegExp | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return new RegExp(`^(?:${text})`);
  } catch (err) {
    throw new Error(`invalid ${what} filter: ${(err as Error).message}`);
  }
}

/**
 * `name\tversion` lines of the installed packages, from dpkg-query output. With filters, a package
 * is kept when its name or its maintainer matches (thin-edge's rule).
 */
export function installedPackages(dpkgQueryOutput: string, filters: ListFilters = {}): string[] {
  const name = startRegex(filters.name, 'name');
  const maintainer = startRegex(filters.maintainer, 'maintainer');
  const lines: string[] = [];
  for (const line of dpkgQueryOutput.split('\n')) {
    const [pkg = '', version = '', maint = '', status = ''] = line.split('\t');
    if (pkg === '' || !status.endsWith('install ok installed')) continue;
    if ((name !== undefined || maintainer !== undefined) && !(name?.test(pkg) ?? false) && !(maintainer?.test(maint) ?? false)) continue;
    lines.push(`${pkg}\t${version}`);
  }
  return lines;
}

export interface ListedUpdate {
  readonly action: 'install' | 'remove';
  readonly name: string;
  readonly version?: string;
  readonly path?: string;
}

/** update-list stdin: `install\tname\tversion\tpath` / `remove\tname\tversion`, empty fields allowed. */
export function parseUpdateLines(stdin: string): ListedUpdate[] {
  const updates: ListedUpdate[] = [];
  stdin.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const [action = '', name = '', version = '', path = ''] = line.split('\t');
    if (action !== 'install' && action !== 'remove') throw new Error(`update-list line ${i + 1}: unknown action ${JSON.stringify(action)}`);
    if (name === '') throw new Error(`update-list line ${i + 1}: no module name`);
    updates.push({ action, name, ...(version !== '' && { version }), ...(path !== '' && action === 'install' && { path }) });
  });
  return updates;
}

/** apt-get installs "the best version" without one; thin-edge treats `latest` the same. */
export function effectiveVersion(version: string | undefined): string | undefined {
  return version === undefined || version === '' || version === 'latest' ? undefined : version;
}

/** What apt-get is given for a package from the repositories: `name` or `name=version`. */
export function packageSpec(name: string, version: string | undefined): string {
  const v = effectiveVersion(version);
  return v === undefined ? name : `${name}=${v}`;
}

export type DpkgConfigOption = 'keepold' | 'keepnew';

export function dpkgConfigOption(text: string | undefined): DpkgConfigOption {
  return text === 'keepnew' ? 'keepnew' : 'keepold';
}

/** Options common to every apt-get call: non-interactive, quiet. */
const COMMON = ['--quiet', '--yes'];

export function aptInstallArgv(targets: readonly string[], config: DpkgConfigOption): string[] {
  const option = config === 'keepnew' ? 'DPkg::Options::=--force-confnew' : 'DPkg::Options::=--force-confold';
  return ['apt-get', ...COMMON, '-o', option, 'install', '--allow-downgrades', '--no-install-recommends', ...targets];
}

export function aptRemoveArgv(spec: string): string[] {
  return ['apt-get', ...COMMON, 'remove', spec];
}

export function aptUpdateArgv(): string[] {
  return ['apt-get', ...COMMON, 'update'];
}

export function aptAutoremoveArgv(): string[] {
  return ['apt-get', ...COMMON, 'autoremove'];
}

/** apt-get takes `pkg-` in an install call as "remove pkg": one transaction for a whole update-list. */
export function removalTarget(name: string): string {
  return `${name}-`;
}

/**
 * Checks a .deb's control fields (`dpkg-deb -f <file> Package Version`) against the request: the
 * file must be the named package, and of the requested version when one is given.
 */
export function checkDebFields(fields: string, module: string, version: string | undefined, file: string): void {
  const field = (key: string): string => new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(fields)?.[1]?.trim() ?? '';
  const pkg = field('Package');
  if (pkg !== module) throw new Error(`${file} is package '${pkg}', not '${module}'`);
  const v = effectiveVersion(version);
  if (v !== undefined && field('Version') !== v) throw new Error(`${file} is ${module} version '${field('Version')}', not '${v}'`);
}
