import { errorMessage } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import type { CommandRun, HandlerContext, OperationHandler, Outcome } from '../operation';
import { type DownloadFn, applyUpdates } from './apply';
import { FailureReport } from './failures';
import { PathsWatch } from '../../../runtime/paths-watch';
import { pluginFingerprint } from './plugin-fingerprint';
import { listModules, pluginFiles, pluginSettings } from './plugins';
import { SoftwareSerial } from './serial';
import { type TypeUpdates, assignPlugins, parseUpdateList } from './update-request';
import { SELF_UPDATE_FIELD, readSelfUpdateRecord, selfModules, selfUpdateDecision, selfUpdateRecord, withoutSelfModules } from './self-update';
import { tedgeVersion } from '../../../runtime/version';

const PROBE_TIMEOUT_MS = 15_000;
/** How long a self-update waits for the restart it asked for before it fails the command. */
const SELF_RESTART_GRACE_MS = 60_000;

/**
 * software_update: the `updateList` split by plugin (`default` → software.plugin.default or the only
 * plugin), each plugin run through prepare / downloads / update-list (or per module) / finalize.
 * Successful when nothing failed; otherwise `failed` with `reason` and per-module `failures`.
 * Its capability lists the plugin types and is republished when the sm-plugins directory changes.
 */
export class SoftwareUpdateHandler implements OperationHandler {
  readonly operation = 'software_update';
  private watch: PathsWatch | undefined;
  /** Aborts capability probes (`list`) when the agent stops. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly download: DownloadFn,
    private readonly serial = new SoftwareSerial(),
  ) {}

  /** `{"types":[…]}`: the plugins whose `list` works (thin-edge's test of "is a plugin"); others reported. */
  async capability(ctx: HandlerContext): Promise<JsonObject> {
    // Probed when the agent starts and when plugins change: a hanging plugin must not hold the agent up for long.
    const full = pluginSettings(ctx);
    const settings = { ...full, timeoutMs: Math.min(full.timeoutMs, PROBE_TIMEOUT_MS) };
    const types: string[] = [];
    for (const plugin of pluginFiles(settings.dir)) {
      const listed = await listModules(plugin, settings, this.stopping.signal);
      if (listed.ok) types.push(plugin.type);
      else if (!this.stopping.signal.aborted) ctx.reportError(`software plugin ${plugin.path} is not usable and is skipped: ${listed.error}`);
    }
    return { types };
  }

  start(ctx: HandlerContext): Promise<void> {
    const dir = pluginSettings(ctx).dir;
    // A plugin added, removed or replaced: the fingerprint looks at the plugin files, not at any edit.
    this.watch = new PathsWatch([dir], () => ctx.capabilityChanged(), 5000, () => pluginFingerprint(dir));
    this.watch.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopping.abort();
    this.watch?.stop();
    return Promise.resolve();
  }

  /**
   * Killed mid-update, the agent cannot tell which modules the plugin applied: thin-edge's answer and
   * wording. The request is kept in the payload, so the cloud can send it again. The exception is a
   * self-update: installing the agent's own package restarts the agent (its postinst), so a restart is
   * expected; the version now running tells whether the new package is up. Then the rest of the request
   * runs again without the agent's package (installs and removes are idempotent, and installing the agent
   * again would restart it again); a kill during that lands here again with the same answer.
   */
  resume(run: CommandRun): Promise<Outcome> {
    const record = readSelfUpdateRecord(run.payload);
    if (record === undefined) return Promise.resolve({ status: 'failed', reason: 'Software Update command cancelled due to unexpected agent restart' });
    const now = tedgeVersion();
    const decision = selfUpdateDecision(record, now);
    run.log(`agent restarted during a self-update: version ${record.before} before, ${now} now: ${decision.status === 'successful' ? 'the new version is up' : decision.reason}`);
    if (decision.status === 'failed' || record.applied === true) return Promise.resolve(decision);
    return this.serial.run(() => this.update(run, true), () => run.log('waiting for the software operation in progress'));
  }

  execute(run: CommandRun): Promise<Outcome> {
    return this.serial.run(() => this.update(run, false), () => run.log('waiting for the software operation in progress'));
  }

  /** `selfDone`: resumed after a verified self-update, so the agent's own package is not installed again. */
  private async update(run: CommandRun, selfDone: boolean): Promise<Outcome> {
    const settings = pluginSettings(run.context);
    let groups: TypeUpdates[];
    try {
      groups = parseUpdateList(run.payload);
    } catch (err) {
      return { status: 'failed', reason: `Invalid software_update request: ${errorMessage(err)}` };
    }
    let record: JsonObject | undefined;
    if (selfDone) groups = withoutSelfModules(groups);
    else {
      // Persisted before any plugin runs: the package's postinst may restart the agent at any point after.
      record = selfUpdateRecord(tedgeVersion(), selfModules(groups));
      if (record !== undefined) await run.checkpoint({ [SELF_UPDATE_FIELD]: record });
    }
    const plugins = pluginFiles(settings.dir);
    const { planned, unknown } = assignPlugins(
      groups,
      plugins.map((p) => p.type),
      settings.defaultType,
    );
    const report = new FailureReport();
    for (const group of planned) {
      if (run.signal.aborted) break;
      const plugin = plugins.find((p) => p.type === group.type);
      if (plugin === undefined || group.modules.length === 0) continue;
      await applyUpdates(plugin, group.modules, report, {
        settings,
        signal: run.signal,
        log: (l) => run.log(l),
        download: this.download,
      });
    }
    // After the updates that could be tried, as they were not.
    for (const group of unknown) {
      const reason = `Unknown software type: "${group.type}"${group.type === 'default' ? ' (set software.plugin.default)' : ''}`;
      run.log(`error: ${reason}`);
      report.add(group.type, reason, group.modules);
    }
    if (run.signal.aborted && report.empty) return { status: 'failed', reason: 'interrupted: the agent stopped during the update' };
    const reason = report.reason();
    // Still here after installing the agent's own package: its postinst did not restart the agent.
    if (record !== undefined && reason === undefined && !run.signal.aborted) return this.restartAfterSelfUpdate(run, record);
    if (reason === undefined) return { status: 'successful' };
    const stale = record === undefined ? '' : ' (the agent was not restarted: it runs the version it ran before the update)';
    return { status: 'failed', reason: `${reason}${stale}`, payload: { failures: report.failures() } };
  }

  /**
   * The new package is installed but the old agent still runs: the agent restarts itself (its service
   * manager starts the new binary) and `resume` checks the version; nothing of the request runs again.
   */
  private async restartAfterSelfUpdate(run: CommandRun, record: JsonObject): Promise<Outcome> {
    const restart = run.context.restartAgent;
    if (restart === undefined) return { status: 'failed', reason: 'Self-update: the package was installed but did not restart the agent, and this agent cannot restart itself: restart tedge-agent' };
    await run.checkpoint({ [SELF_UPDATE_FIELD]: { ...record, applied: true } });
    run.log('the package did not restart the agent: restarting it to run the new version');
    restart('self-update: the new package is installed');
    // The executor stops this command (left executing, resumed by the next process); a stop that never comes fails it.
    const stopped = await new Promise<boolean>((resolve) => {
      if (run.signal.aborted) return resolve(true);
      const timer = setTimeout(() => resolve(false), SELF_RESTART_GRACE_MS);
      run.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(true);
      }, { once: true });
    });
    if (stopped) return { status: 'failed', reason: 'interrupted: the agent is restarting after its self-update' };
    return { status: 'failed', reason: `Self-update: the package was installed but the agent did not restart within ${SELF_RESTART_GRACE_MS / 1000} s` };
  }
}
