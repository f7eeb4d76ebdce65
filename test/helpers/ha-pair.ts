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
/** With a server segment: the server, and the gateway address the pair moves on untrust0. */
export const SERVER4 = '10.2.0.2';
export const VIP4_SERVERS = '10.2.0.1';
const LINK: Record<Box, string> = { a: '10.254.0.1', b: '10.254.0.2' };
/** Each box's own address on the client and server segments (the virtual IPs come and go). */
const BASE: Record<Box, { trust: string; untrust: string }> = { a: { trust: '10.1.0.11', untrust: '10.2.0.11' }, b: { trust: '10.1.0.12', untrust: '10.2.0.12' } };

/**
 * This box's config: a trust zone on trust0 and the pair, `priority` its activeness-priority;
 * with `servers`, an untrust zone on untrust0 that trust may reach, and a virtual IP there.
 */
export function pairConfig(box: Box, priority: number, servers = false): string {
  const peer: Box = box === 'a' ? 'b' : 'a';
  return `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
${servers ? '        security-zone untrust { interfaces { untrust0; } host-inbound-traffic { system-services { ping; } } }\n' : ''}    }
${servers ? '    policies { from-zone trust to-zone untrust { policy out { match { source-address any; destination-address any; application any; } then { permit; } } } }\n' : ''}}
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
${servers ? `        virtual-ip 3 { ip ${VIP4_SERVERS}/24; interface untrust0; }\n` : ''}        activeness-priority ${priority};
        preemption;
    }
}
`;
}

export class HaPair {
  readonly ns: Record<Box | 'client' | 'server', string>;
  readonly dir: string;
  private readonly keepalived = new Map<Box, ChildProcess>();
  private readonly conntrackd = new Map<Box, ChildProcess>();
  private destroyed = false;

  private constructor(readonly id: string, readonly servers: boolean) {
    this.ns = { a: `${id}-a`, b: `${id}-b`, client: `${id}-c`, server: `${id}-s` };
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`));
  }

  /** `servers`: a server segment too (untrust0 on both boxes, bridged in a server namespace), and forwarding through the pair. */
  static async create(opts: { servers?: boolean } = {}): Promise<HaPair> {
    const p = new HaPair(`xha${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`, opts.servers ?? false);
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
    const { a, b, client, server } = this.ns;
    for (const n of [a, b, client, ...(this.servers ? [server] : [])]) await run('ip', ['netns', 'add', n]);
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
    if (this.servers) await this.buildServers();
  }

  /**
   * The server segment: untrust0 of each box on a bridge in the server namespace; each box
   * forwards and has its own address on both segments; client and server route through the
   * virtual IPs. Frames XDP redirects into a veth need GRO on its far end: the bridge ports.
   * The bridges compute checksums themselves (tx off): XDP forwards frames without their offload state.
   */
  private async buildServers(): Promise<void> {
    await this.sh('server', 'ip link add br1 type bridge && ip link set br1 up && ip link set lo up');
    for (const box of BOXES) {
      await run('ip', ['link', 'add', 'untrust0', 'netns', this.ns[box], 'type', 'veth', 'peer', 'name', `sport-${box}`, 'netns', this.ns.server]);
      await this.sh('server', `ip link set sport-${box} master br1 && ip link set sport-${box} up && ethtool -K sport-${box} gro on`);
      await this.sh('client', `ethtool -K port-${box} gro on`);
      await this.sh(box, `ip link set untrust0 up && ip addr add ${BASE[box].trust}/24 dev trust0 && ip addr add ${BASE[box].untrust}/24 dev untrust0 && ` +
        // The slow path's first packets go on through the kernel.
        'sysctl -qw net.ipv4.ip_forward=1');
    }
    // Checksums and segments made in software: XDP forwards frames as they are, without the offload's state.
    await this.sh('client', 'ethtool -K br0 tx off tso off gso off');
    await this.sh('server', 'ethtool -K br1 tx off tso off gso off');
    await this.sh('server', `ip addr add ${SERVER4}/24 dev br1 && ip route add default via ${VIP4_SERVERS}`);
    await this.sh('client', `ip route add default via ${VIP4}`);
  }

  async sh(where: Box | 'client' | 'server', cmd: string): Promise<string> {
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

  /** Writes the box's config and loads the daemon with it (`args`: more `load` options). */
  async loadDaemon(box: Box, priority: number, args: string[] = []): Promise<void> {
    this.writeConfig(box, priority);
    await this.xdpfw(box, ['load', '-c', this.configPath(box), ...args]);
  }

  writeConfig(box: Box, priority: number): void {
    writeFileSync(this.configPath(box), pairConfig(box, priority, this.servers));
  }

  /** The conntrackd.conf `xdpfw ha generate conntrackd` writes for the box (the config must be written). */
  async conntrackdConf(box: Box): Promise<string> {
    const dir = join(this.dir, `conntrackd-${box}`);
    const conf = join(dir, 'conntrackd.conf');
    mkdirSync(dir, { recursive: true });
    writeFileSync(conf, await this.xdpfw(box, ['ha', 'generate', 'conntrackd', '-c', this.configPath(box), '--conntrackd-dir', dir]));
    return conf;
  }

  /**
   * kill -9 of the box's daemon, its XDP programs detached, and the kernel's forwarding off:
   * the box forwards nothing more, as a dead box (else its kernel would route unfiltered).
   */
  async killDaemon(box: Box): Promise<void> {
    const daemon = identifyDaemon(statePaths(this.stateDir(box)));
    if (daemon.kind === 'ours') process.kill(daemon.pid, 'SIGKILL');
    // XDP stays attached through its pinned links while the pins last: removed, nothing holds it.
    for (let i = 0; daemon.kind === 'ours' && i < 200; i++) {
      try { process.kill(daemon.pid, 0); } catch { break; }
      await new Promise((r) => setTimeout(r, 10));
    }
    purgePins(statePaths(this.stateDir(box)));
    for (const dev of ['trust0', ...(this.servers ? ['untrust0'] : [])]) {
      await this.sh(box, `ip link set dev ${dev} xdpgeneric off 2>/dev/null; ip link set dev ${dev} xdpdrv off 2>/dev/null; true`);
      if ((await this.sh(box, `ip -j link show dev ${dev}`)).includes('"xdp"')) throw new Error(`${box}: XDP still on ${dev}`);
    }
    await this.sh(box, 'sysctl -qw net.ipv4.ip_forward=0');
  }

  /** kill -9 of the box's conntrackd. */
  killConntrackd(box: Box): void {
    this.conntrackd.get(box)?.kill('SIGKILL');
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
    const conf = await this.conntrackdConf(box);
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
      if (c.exitCode !== null || c.signalCode !== null) continue;
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
