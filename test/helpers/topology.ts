// client ── trust0 [firewall] untrust0 ── server, in three network
// namespaces named uniquely per run (and, on request, a fourth behind
// alt0: addAlt(); and a host `far` behind the server, which then routes:
// addFar()). The firewall namespace runs the real daemon, entered
// with nsenter --net (it shares our mount namespace, as a systemd service
// on the host would) or, on request, with `ip netns exec` as users do
// (which gives it a mount namespace of its own with a fresh /sys).
// Used by the end-to-end tests and by `make demo`.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { identifyDaemon } from '../../lib/daemon/pid-file.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { purgePins } from '../../lib/dataplane/dataplane.js';
import { packageRoot } from '../../lib/util/paths.js';

const run = promisify(execFile);

export const ADDR = {
  client4: '10.1.0.2', fwTrust4: '10.1.0.1', server4: '10.2.0.2', fwUntrust4: '10.2.0.1',
  client6: 'fd00:1::2', fwTrust6: 'fd00:1::1', server6: 'fd00:2::2', fwUntrust6: 'fd00:2::1',
  alt4: '10.3.0.2', fwAlt4: '10.3.0.1', alt6: 'fd00:3::2', fwAlt6: 'fd00:3::1',
  far4: '10.4.0.2', serverFar4: '10.4.0.1', far6: 'fd00:4::2', serverFar6: 'fd00:4::1',
} as const;

export type Host = 'client' | 'fw' | 'server';
/** The hosts, `alt` once addAlt() built it, `far` once addFar() did. */
export type Namespace = Host | 'alt' | 'far';

export interface RunningTraffic {
  child: ChildProcess;
  lines: string[];
  exited: Promise<string>;
}

/** How a command enters the firewall namespace: network only, or `ip netns exec` (also a mount namespace). */
export type Entry = 'nsenter' | 'ip-netns-exec';

/**
 * How the client's and server's veth ends take frames the firewall's XDP
 * redirects to them: an XDP program of their own (the default), GRO, or
 * neither (the kernel then drops those frames).
 */
export type PeerReceive = 'xdp' | 'gro' | 'none';

/**
 * MTU of the links: one number for both, or per side (trust: client - fw,
 * untrust: fw - server); the kernel's 1500 where not given.
 */
export type LinkMtu = number | { trust?: number; untrust?: number };

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');
const TRAFFIC = resolve(packageRoot, 'dist', 'test', 'helpers', 'traffic.js');
const PASS_OBJ = resolve(packageRoot, 'dist', 'bpf', 'xdp_pass.bpf.o');

export class Topology {
  readonly ns: Record<Namespace, string>;
  readonly stateDir: string;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(readonly id: string) {
    this.ns = { client: `${id}-c`, fw: `${id}-f`, server: `${id}-s`, alt: `${id}-a`, far: `${id}-r` };
    this.stateDir = mkdtempSync(join(tmpdir(), `${id}-state-`));
  }

  /** Builds the three namespaces; tears down what it built if a step fails. */
  /** queues: RX and TX queues of every veth end (the kernel's 1 when not given). */
  static async create(opts: { peers?: PeerReceive; mtu?: LinkMtu; queues?: number } = {}): Promise<Topology> {
    const id = `xfw${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const t = new Topology(id);
    // A test runner that times out kills us: clean up on the way out too.
    process.once('exit', () => t.destroySync());
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15)));
    }
    try {
      await t.build(opts.peers ?? 'xdp', opts.mtu ?? {}, opts.queues ?? 1);
    } catch (err) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  private async build(peers: PeerReceive, mtu: LinkMtu, queues: number): Promise<void> {
    const { client, fw, server } = this.ns;
    for (const n of [client, fw, server]) await sh('ip', ['netns', 'add', n]);
    const q = queues === 1 ? [] : ['numtxqueues', String(queues), 'numrxqueues', String(queues)];
    await sh('ip', ['link', 'add', 'eth0', 'netns', client, ...q, 'type', 'veth', 'peer', 'name', 'trust0', 'netns', fw, ...q]);
    await sh('ip', ['link', 'add', 'eth0', 'netns', server, ...q, 'type', 'veth', 'peer', 'name', 'untrust0', 'netns', fw, ...q]);
    const cmds: Array<[Host, string]> = [
      ['fw', 'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'],
      ['fw', `ip addr add ${ADDR.fwTrust4}/24 dev trust0`], ['fw', `ip addr add ${ADDR.fwTrust6}/64 dev trust0 nodad`],
      ['fw', `ip addr add ${ADDR.fwUntrust4}/24 dev untrust0`], ['fw', `ip addr add ${ADDR.fwUntrust6}/64 dev untrust0 nodad`],
      ['client', `ip addr add ${ADDR.client4}/24 dev eth0`], ['client', `ip addr add ${ADDR.client6}/64 dev eth0 nodad`],
      ['server', `ip addr add ${ADDR.server4}/24 dev eth0`], ['server', `ip addr add ${ADDR.server6}/64 dev eth0 nodad`],
    ];
    for (const [host, cmd] of cmds) await this.sh(host, cmd);
    const sides = typeof mtu === 'number' ? { trust: mtu, untrust: mtu } : mtu;
    for (const [host, dev, side] of [['fw', 'trust0', 'trust'], ['fw', 'untrust0', 'untrust'], ['client', 'eth0', 'trust'], ['server', 'eth0', 'untrust']] as const) {
      const linkMtu = sides[side];
      if (linkMtu !== undefined) await this.sh(host, `ip link set dev ${dev} mtu ${linkMtu}`);
    }
    for (const [host, dev] of [['fw', 'trust0'], ['fw', 'untrust0'], ['client', 'eth0'], ['server', 'eth0']] as Array<[Host, string]>) {
      await this.sh(host, 'ip link set lo up');
      await this.sh(host, `ip link set ${dev} up`);
      // Frames leave complete: XDP forwards what it receives byte for byte,
      // so no checksum or segmentation may be left to offload.
      await this.sh(host, `ethtool -K ${dev} tx off tso off gso off gro off`);
    }
    for (const host of ['client', 'server'] as const) {
      // A veth accepts XDP-redirected frames only when its peer runs XDP or GRO.
      if (peers === 'xdp') await this.sh(host, `ip link set dev eth0 xdpdrv obj ${PASS_OBJ} sec xdp.frags`);
      if (peers === 'gro') await this.sh(host, 'ethtool -K eth0 gro on');
    }
    await this.sh('client', `ip route add default via ${ADDR.fwTrust4}`);
    await this.sh('client', `ip -6 route add default via ${ADDR.fwTrust6}`);
    await this.sh('server', `ip route add default via ${ADDR.fwUntrust4}`);
    await this.sh('server', `ip -6 route add default via ${ADDR.fwUntrust6}`);
  }

  /**
   * A fourth namespace `alt` behind the firewall's `alt0` (10.3.0.0/24, fd00:3::/64), a
   * second way out: it routes back through the firewall and runs XDP on its end like the
   * others. Removed with the rest by destroy().
   */
  async addAlt(): Promise<void> {
    await sh('ip', ['netns', 'add', this.ns.alt]);
    await sh('ip', ['link', 'add', 'eth0', 'netns', this.ns.alt, 'type', 'veth', 'peer', 'name', 'alt0', 'netns', this.ns.fw]);
    for (const [host, cmd] of [
      ['fw', `ip addr add ${ADDR.fwAlt4}/24 dev alt0`], ['fw', `ip addr add ${ADDR.fwAlt6}/64 dev alt0 nodad`],
      ['alt', `ip addr add ${ADDR.alt4}/24 dev eth0`], ['alt', `ip addr add ${ADDR.alt6}/64 dev eth0 nodad`],
      ['alt', 'ip link set lo up'], ['fw', 'ip link set alt0 up'], ['alt', 'ip link set eth0 up'],
      ['fw', 'ethtool -K alt0 tx off tso off gso off gro off'], ['alt', 'ethtool -K eth0 tx off tso off gso off gro off'],
      ['alt', `ip link set dev eth0 xdpdrv obj ${PASS_OBJ} sec xdp.frags`],
      ['alt', `ip route add default via ${ADDR.fwAlt4}`], ['alt', `ip -6 route add default via ${ADDR.fwAlt6}`],
    ] as Array<[Namespace, string]>) await this.sh(host, cmd);
  }

  /**
   * A fifth namespace `far` (10.4.0.2, fd00:4::2) behind the server, which becomes a router:
   * its `eth1` link to far has MTU `linkMtu` on the server's end, while far's own end keeps
   * 1500, so far advertises a full-size TCP MSS and only path MTU discovery can find the
   * smaller hop (as with a tunnel on the way). The firewall routes 10.4.0.0/24 and fd00:4::/64
   * through the server. Removed with the rest by destroy().
   */
  async addFar(linkMtu = 1280): Promise<void> {
    await sh('ip', ['netns', 'add', this.ns.far]);
    await sh('ip', ['link', 'add', 'eth1', 'netns', this.ns.server, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns.far]);
    for (const [host, cmd] of [
      ['server', 'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'],
      ['server', `ip addr add ${ADDR.serverFar4}/24 dev eth1`], ['server', `ip addr add ${ADDR.serverFar6}/64 dev eth1 nodad`],
      ['far', `ip addr add ${ADDR.far4}/24 dev eth0`], ['far', `ip addr add ${ADDR.far6}/64 dev eth0 nodad`],
      ['server', `ip link set eth1 mtu ${linkMtu} up`], ['far', 'ip link set lo up'], ['far', 'ip link set eth0 up'],
      ['server', 'ethtool -K eth1 tx off tso off gso off gro off'], ['far', 'ethtool -K eth0 tx off tso off gso off gro off'],
      ['far', `ip route add default via ${ADDR.serverFar4}`], ['far', `ip -6 route add default via ${ADDR.serverFar6}`],
      ['fw', `ip route add 10.4.0.0/24 via ${ADDR.server4}`], ['fw', `ip -6 route add fd00:4::/64 via ${ADDR.server6}`],
    ] as Array<[Namespace, string]>) await this.sh(host, cmd);
  }

  /** Runs a shell command line in a host's namespace; throws on failure. */
  async sh(host: Namespace, cmd: string): Promise<string> {
    const r = await this.exec(host, 'sh', ['-c', cmd]);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /**
   * Runs a program in a host's namespace: by default the network namespace
   * only (the bpffs stays shared); `ip-netns-exec` runs it as a user would.
   */
  async exec(host: Namespace, file: string, args: string[], timeoutMs = 120_000, entry: Entry = 'nsenter'): Promise<ExecResult> {
    const enter = entry === 'nsenter' ? ['nsenter', `--net=/run/netns/${this.ns[host]}`] : ['ip', 'netns', 'exec', this.ns[host]];
    try {
      const r = await run(enter[0]!, [...enter.slice(1), file, ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 });
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number | string };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? String(err), code: typeof e.code === 'number' ? e.code : 1 };
    }
  }

  /** The xdpfw CLI in the firewall namespace, with this topology's state directory. */
  xdpfw(args: string[], timeoutMs?: number, entry: Entry = 'nsenter'): Promise<ExecResult> {
    return this.exec('fw', process.execPath, [XDPFW, ...args, '--state-dir', this.stateDir], timeoutMs, entry);
  }

  async xdpfwJson<T>(args: string[]): Promise<T> {
    const r = await this.xdpfw([...args, '--json']);
    if (r.code !== 0) throw new Error(`xdpfw ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  writeConfig(text: string): string {
    const path = join(this.stateDir, 'xdpfw.conf');
    writeFileSync(path, text);
    return path;
  }

  /** Runs a traffic endpoint to completion and returns its last JSON line. */
  async traffic<T>(host: Namespace, args: string[], timeoutMs = 120_000): Promise<T> {
    const r = await this.exec(host, process.execPath, [TRAFFIC, ...args], timeoutMs);
    const lines = r.stdout.trim().split('\n');
    if (r.code !== 0 || !lines.at(-1)) throw new Error(`traffic ${args.join(' ')} on ${host}: ${r.stderr}`);
    return JSON.parse(lines.at(-1)!) as T;
  }

  /**
   * Starts a long-running traffic endpoint; resolves once it printed its
   * first line. `exited` resolves with its last line when it ends, or
   * rejects after `limitMs`.
   */
  async startTraffic(host: Namespace, args: string[], limitMs = 60_000): Promise<RunningTraffic> {
    const child = spawn('nsenter', [`--net=/run/netns/${this.ns[host]}`, process.execPath, TRAFFIC, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    const lines: string[] = [];
    const exited = new Promise<string>((resolveExit, reject) => {
      const timer = setTimeout(() => reject(new Error(`traffic ${args.join(' ')} still running after ${limitMs} ms`)), limitMs);
      child.on('exit', () => {
        clearTimeout(timer);
        this.children.delete(child);
        resolveExit(lines.at(-1) ?? '');
      });
    });
    exited.catch(() => undefined); // observed by whoever awaits it
    let partial = '';
    await new Promise<void>((resolveReady, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        partial += d.toString();
        const parts = partial.split('\n');
        partial = parts.pop()!;
        lines.push(...parts);
        if (lines.length > 0) resolveReady();
      });
      child.once('exit', (code) => reject(new Error(`traffic ${args.join(' ')} exited early (${code})`)));
    });
    return { child, lines, exited };
  }

  /** Removes everything: daemon, pins, namespaces, state. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const c of this.children) c.kill('SIGKILL');
    await this.xdpfw(['unload'], 30_000).catch(() => undefined);
    this.destroySync();
  }

  /** The part of destroy() that needs no event loop: also run at process exit. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) c.kill('SIGKILL');
    // If unload could not do it (daemon hung or never asked), do it by force.
    const paths = statePaths(this.stateDir);
    const daemon = identifyDaemon(paths);
    if (daemon.kind === 'ours') {
      try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    try { purgePins(paths); } catch { /* best effort: report nothing more useful than the test's own failure */ }
    for (const n of Object.values(this.ns)) {
      try { execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' }); } catch { /* not there */ }
    }
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

async function sh(file: string, args: string[]): Promise<void> {
  await run(file, args);
}

/** A zones-and-policies config for this topology. */
export function basicConfig(extra = ''): string {
  return `
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 60; icmp 60; } }
}
${extra}`;
}
