// Two firewall namespaces, a and b, whose trust0 links share a bridge in a
// client namespace (the client's segment), joined by a sync0 veth pair (the
// peer link). Each box runs the real xdpfw daemon and, on request, the real
// keepalived with the file `xdpfw ha generate keepalived` writes for it.
// Names are unique per run; everything (keepalived, daemons, pins,
// namespaces, files) is removed on destroy and at process exit.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { identifyDaemon } from '../../lib/daemon/pid-file.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { purgePins } from '../../lib/dataplane/dataplane.js';
import { packageRoot } from '../../lib/util/paths.js';

const run = promisify(execFile);
const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');

export type Box = 'a' | 'b';
export const BOXES: readonly Box[] = ['a', 'b'];
export const VIP4 = '10.1.0.1';
export const VIP6 = 'fd00:1::1';
export const CLIENT4 = '10.1.0.2';
const LINK: Record<Box, string> = { a: '10.254.0.1', b: '10.254.0.2' };

/** This box's config: a trust zone on trust0 and the pair, `priority` its activeness-priority. */
export function pairConfig(box: Box, priority: number): string {
  const peer: Box = box === 'a' ? 'b' : 'a';
  return `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
    }
}
high-availability {
    local-id ${box === 'a' ? 1 : 2} { local-ip ${LINK[box]}; }
    peer-id ${box === 'a' ? 2 : 1} {
        peer-ip ${LINK[peer]};
        interface sync0;
        liveness-detection { minimum-interval 100; }
    }
    services-redundancy-group 1 {
        virtual-ip 1 { ip ${VIP4}/24; interface trust0; }
        virtual-ip 2 { ip ${VIP6}/64; interface trust0; }
        activeness-priority ${priority};
        preemption;
    }
}
`;
}

export class HaPair {
  readonly ns: Record<Box | 'client', string>;
  readonly dir: string;
  private readonly keepalived = new Map<Box, ChildProcess>();
  private readonly conntrackd = new Map<Box, ChildProcess>();
  private destroyed = false;

  private constructor(readonly id: string) {
    this.ns = { a: `${id}-a`, b: `${id}-b`, client: `${id}-c` };
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`));
  }

  static async create(): Promise<HaPair> {
    const p = new HaPair(`xha${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`);
    process.once('exit', () => p.destroySync());
    // SIGALRM: tap's own timeout.
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const) process.once(sig, () => process.exit(1));
    try {
      await p.build();
    } catch (err) {
      p.destroySync();
      throw err;
    }
    return p;
  }

  stateDir(box: Box): string {
    return join(this.dir, `state-${box}`);
  }

  private async build(): Promise<void> {
    const { a, b, client } = this.ns;
    for (const n of [a, b, client]) await run('ip', ['netns', 'add', n]);
    await run('ip', ['link', 'add', 'sync0', 'netns', a, 'type', 'veth', 'peer', 'name', 'sync0', 'netns', b]);
    await this.sh('client', 'ip link add br0 type bridge && ip link set br0 up && ip link set lo up');
    for (const box of BOXES) {
      await run('ip', ['link', 'add', 'trust0', 'netns', this.ns[box], 'type', 'veth', 'peer', 'name', `port-${box}`, 'netns', client]);
      await this.sh('client', `ip link set port-${box} master br0 && ip link set port-${box} up`);
      await this.sh(box, `ip link set lo up && ip addr add ${LINK[box]}/30 dev sync0 && ip link set sync0 up && ip link set trust0 up`);
      // keepalived adds the virtual IPv6 address: no duplicate address detection to wait for.
      await this.sh(box, 'sysctl -qw net.ipv6.conf.trust0.accept_dad=0');
    }
    await this.sh('client', `ip addr add ${CLIENT4}/24 dev br0`);
  }

  async sh(where: Box | 'client', cmd: string): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns[where], 'sh', '-c', cmd], { timeout: 60_000 });
    return stdout;
  }

  /** The xdpfw CLI against this box's daemon, in its namespace. */
  async xdpfw(box: Box, args: string[]): Promise<string> {
    const { stdout } = await run('nsenter', [`--net=/run/netns/${this.ns[box]}`, process.execPath, XDPFW, ...args, '--state-dir', this.stateDir(box)],
      { timeout: 120_000 });
    return stdout;
  }

  configPath(box: Box): string {
    return join(this.dir, `${box}.conf`);
  }

  /** Writes the box's config and loads the daemon with it. */
  async loadDaemon(box: Box, priority: number): Promise<void> {
    writeFileSync(this.configPath(box), pairConfig(box, priority));
    await this.xdpfw(box, ['load', '-c', this.configPath(box)]);
  }

  /** Starts keepalived on a box with the file xdpfw generates for it; resolves once it runs. */
  async startKeepalived(box: Box): Promise<void> {
    const conf = join(this.dir, `keepalived-${box}.conf`);
    writeFileSync(conf, await this.xdpfw(box, ['ha', 'generate', 'keepalived', '-c', this.configPath(box)]));
    const child = spawn('ip', ['netns', 'exec', this.ns[box], 'keepalived', '--dont-fork', '--dont-respawn', '--vrrp', '--log-console', '--no-syslog',
      '-f', conf, '-p', join(this.dir, `keepalived-${box}.pid`), '-r', join(this.dir, `vrrp-${box}.pid`)],
    { stdio: ['ignore', openSync(this.keepalivedLog(box), 'a'), openSync(this.keepalivedLog(box), 'a')] });
    this.keepalived.set(box, child);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`keepalived on ${box} exited (${child.exitCode})`);
      if (this.vrrpPid(box) !== null) return;
      if (i > 600) throw new Error(`keepalived on ${box}: no VRRP process after 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts conntrackd on a box with the file `xdpfw ha generate conntrackd` writes for it; resolves once it answers. */
  async startConntrackd(box: Box): Promise<string> {
    const dir = join(this.dir, `conntrackd-${box}`);
    mkdirSync(dir);
    const conf = join(dir, 'conntrackd.conf');
    writeFileSync(conf, await this.xdpfw(box, ['ha', 'generate', 'conntrackd', '-c', this.configPath(box), '--conntrackd-dir', dir]));
    const child = spawn('ip', ['netns', 'exec', this.ns[box], 'conntrackd', '-C', conf], { stdio: 'ignore' });
    this.conntrackd.set(box, child);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`conntrackd on ${box} exited (${child.exitCode}): ${readFileSync(join(dir, 'conntrackd.log'), 'utf8')}`);
      try { await run('conntrackd', ['-C', conf, '-s', 'cache']); return conf; } catch { /* not yet */ }
      if (i > 600) throw new Error(`conntrackd on ${box}: no answer after 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  keepalivedLog(box: Box): string {
    return join(this.dir, `keepalived-${box}.log`);
  }

  private vrrpPid(box: Box): number | null {
    try {
      const pid = Number(readFileSync(join(this.dir, `vrrp-${box}.pid`), 'utf8').trim());
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  /** kill -9 of the box's keepalived, VRRP process and parent: it sends nothing more, removes nothing. */
  async killKeepalived(box: Box): Promise<void> {
    const child = this.keepalived.get(box);
    const vrrp = this.vrrpPid(box);
    if (vrrp !== null) process.kill(vrrp, 'SIGKILL');
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    this.keepalived.delete(box);
    rmSync(join(this.dir, `vrrp-${box}.pid`), { force: true });
    rmSync(join(this.dir, `keepalived-${box}.pid`), { force: true });
  }

  /** The virtual addresses a box holds on trust0. */
  async addresses(box: Box): Promise<string[]> {
    const out = JSON.parse(await this.sh(box, 'ip -j addr show dev trust0')) as Array<{ addr_info: Array<{ local: string }> }>;
    return out[0]?.addr_info.map((x) => x.local) ?? [];
  }

  async mac(box: Box): Promise<string> {
    return (JSON.parse(await this.sh(box, 'ip -j link show dev trust0')) as Array<{ address: string }>)[0]!.address;
  }

  /** The MAC the client's neighbour table has for an address, or null. */
  async clientNeighbour(ip: string): Promise<string | null> {
    const out = JSON.parse(await this.sh('client', `ip -j neigh show ${ip} dev br0`)) as Array<{ lladdr?: string }>;
    return out[0]?.lladdr ?? null;
  }

  async destroy(): Promise<void> {
    for (const box of BOXES) await this.killKeepalived(box).catch(() => undefined);
    for (const c of this.conntrackd.values()) {
      if (c.exitCode !== null) continue;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
    for (const box of BOXES) {
      await this.xdpfw(box, ['unload']).catch(() => undefined);
    }
    this.destroySync();
  }

  /** What destroy() does, without the event loop (also at process exit). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const box of BOXES) {
      for (const f of [`vrrp-${box}.pid`, `keepalived-${box}.pid`]) {
        try { process.kill(Number(readFileSync(join(this.dir, f), 'utf8').trim()), 'SIGKILL'); } catch { /* gone */ }
      }
      this.keepalived.get(box)?.kill('SIGKILL');
      this.conntrackd.get(box)?.kill('SIGKILL');
      const paths = statePaths(this.stateDir(box));
      const daemon = identifyDaemon(paths);
      if (daemon.kind === 'ours') {
        try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* gone */ }
      }
      try { purgePins(paths); } catch { /* best effort */ }
    }
    for (const n of Object.values(this.ns)) {
      try { execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' }); } catch { /* not there */ }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
