import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A simulated A/B device for firmware_update tests: a firmware backend script keeping the slot state in
 * files (booted, primary, trial = armed for one trial boot), and a "reboot" (the system.toml reboot
 * command) that boots the trial slot once (or the primary), clears run.path and stops the agent, as a
 * reboot does. Faults: `kill-<command>` makes the backend kill the agent (kill -9) when called with that
 * command; `fallback` makes the bootloader refuse the trial slot; `hang-install` makes install hang;
 * `no-reboot-once` makes the next reboot kill the agent without rebooting; `powercut-install` cuts the power once
 * install has armed the slot.
 */
export class SimulatedAbDevice {
  readonly backend: string;
  readonly reboot: string;

  constructor(
    readonly dir: string,
    private readonly runDir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.set('booted', 'A');
    this.set('primary', 'A');
    this.set('trial', '');
    writeFileSync(join(dir, 'slot-A'), 'firmware 1.0\n');
    this.backend = join(dir, 'backend.sh');
    this.reboot = join(dir, 'reboot.sh');
    const S = JSON.stringify(dir);
    writeFileSync(
      this.backend,
      `#!/bin/sh
S=${S}
echo "$*" >> "$S/calls.log"
fault() {
  if [ -f "$S/kill-$1" ]; then rm -f "$S/kill-$1"; [ -n "$2" ] && head -c 10 "$2" > "$S/slot-$3"; kill -9 $PPID; exit 2; fi
}
case "$1" in
  install)
    booted=$(cat "$S/booted"); if [ "$booted" = A ]; then t=B; else t=A; fi
    fault install "$2" "$t"
    [ -f "$S/hang-install" ] && sleep 600
    cp "$2" "$S/slot-$t" && echo "$t" > "$S/trial" && echo "wrote slot $t"
    # A power cut once the slot is armed: the device boots the trial slot, /run is empty, the agent is gone.
    if [ -f "$S/powercut-install" ]; then rm -f "$S/powercut-install"; "$S/reboot.sh" --powercut; exit 2; fi
    echo "$t" ;;
  booted-slot) cat "$S/booted" ;;
  mark-good) fault mark-good; cat "$S/booted" > "$S/primary"; : > "$S/trial" ;;
  mark-bad) fault mark-bad; : > "$S/trial" ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
`,
    );
    writeFileSync(
      this.reboot,
      `#!/bin/sh
S=${S}
if [ -f "$S/no-reboot-once" ]; then rm -f "$S/no-reboot-once"; echo no-reboot >> "$S/calls.log"; kill -9 $PPID; exit 0; fi
trial=$(cat "$S/trial")
if [ -n "$trial" ] && [ ! -f "$S/fallback" ]; then echo "$trial" > "$S/booted"; else cat "$S/primary" > "$S/booted"; fi
: > "$S/trial"
echo "reboot -> $(cat "$S/booted")" >> "$S/calls.log"
rm -rf ${JSON.stringify(runDir)}; mkdir -p ${JSON.stringify(runDir)}
if [ "\${1-}" = --powercut ]; then kill -9 $(ps -o ppid= -p $PPID); else kill -TERM $PPID; fi
`,
    );
    chmodSync(this.backend, 0o755);
    chmodSync(this.reboot, 0o755);
  }

  set(name: string, value: string): void {
    writeFileSync(join(this.dir, name), value === '' ? '' : `${value}\n`);
  }

  get(name: string): string {
    const p = join(this.dir, name);
    return existsSync(p) ? readFileSync(p, 'utf8').trim() : '';
  }

  /** The backend calls and reboots, one per line. */
  calls(): string[] {
    return this.get('calls.log').split('\n').filter((l) => l !== '');
  }

  /** A consistent device: it runs its primary slot and nothing is armed. */
  assertConsistent(): { booted: string; primary: string } {
    const booted = this.get('booted');
    const primary = this.get('primary');
    if (booted !== primary || this.get('trial') !== '') throw new Error(`inconsistent slots: booted ${booted}, primary ${primary}, trial '${this.get('trial')}'`);
    return { booted, primary };
  }
}

/** An HTTP server for the image; with `stallFirst`, the first response sends half the body and never ends. Range requests are answered 206. */
export class ImageServer {
  requests: Array<{ range?: string }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(body: Buffer, opts: { stallFirst?: boolean } = {}): Promise<ImageServer> {
    let self: ImageServer | undefined;
    const server = createServer((req, res) => {
      const range = req.headers.range;
      self?.requests.push(range === undefined ? {} : { range });
      const m = range === undefined ? null : /^bytes=(\d+)-$/.exec(range);
      const start = m?.[1] === undefined ? 0 : Number(m[1]);
      if (start > 0) {
        res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, etag: '"fw1"' });
        res.end(body.subarray(start));
        return;
      }
      res.writeHead(200, { 'content-length': body.length, etag: '"fw1"' });
      if (opts.stallFirst === true && self?.requests.length === 1) {
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    self = new ImageServer(server, `http://127.0.0.1:${port}/firmware.img`);
    return self;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
