// The benchmark topology: the test topology (client ── trust0 [fw] untrust0
// ── server, namespaces unique to the run) plus an agent in each namespace
// (tools/agent.ts) that attaches benchmark XDP programs and generates
// traffic. The server's eth0 runs the counting sink for the whole run, so
// generated UDP to port 9 is counted there and everything else passes.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { statePaths } from '../../../lib/daemon/state-paths.js';
import { packageRoot } from '../../../lib/util/paths.js';
import { ADDR, type Host, Topology } from '../../helpers/topology.js';
import { frame } from '../../helpers/packets.js';
import type { AgentReply, AgentRequest, GenResult, GenSpec, ProgramName } from './agent-protocol.js';

const AGENT = resolve(packageRoot, 'dist', 'test', 'bench', 'tools', 'agent.js');
export const SINK_PORT = 9;
/**
 * `security flow` statements that turn the flood meters off: the benchmarks that measure how many
 * new flows the slow path takes must not be measuring the meters' budgets.
 */
export const METERS_OFF = 'slow-path-budget { per-source 0; tcp-syn 0; new-flow 0; exception 0; deny-cache-timeout 0; }';

export class Agent {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(private readonly child: ChildProcess) {}

  /** cpu: the agent runs on that CPU only (a generator's frames then reach that RX queue of a veth peer). */
  static start(netns: string, cpu?: number): Promise<Agent> {
    const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, ...pin, process.execPath, AGENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new Agent(child);
    return new Promise((ready, fail) => {
      child.once('exit', (code) => {
        fail(new Error(`agent in ${netns} exited (${code})`));
        for (const p of agent.pending.values()) p.reject(new Error(`agent in ${netns} exited (${code})`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as AgentReply | { ready: true };
        if ('ready' in msg) return ready(agent);
        const p = agent.pending.get(msg.id);
        agent.pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.result);
        else p?.reject(new Error(`agent in ${netns}: ${msg.error}`));
      });
    });
  }

  call<T>(req: AgentRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolveCall, reject) => {
      this.pending.set(id, { resolve: (v) => resolveCall(v as T), reject });
      this.child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

export interface FlowSpec {
  frames: number;
  rate?: number;
  flows?: number;
  /** Source ports per source address (default: as many as fit, up to 60,000). */
  ports?: number;
  firstFlow?: number;
  /** Destination port (default the sink's). */
  dport?: number;
}

export class BenchNet {
  private template = '';
  private readonly extra: Agent[] = [];
  private constructor(readonly topo: Topology, private readonly agents: Record<Host, Agent>) {}

  /** queues: RX/TX queues of every veth end (see pinnedGenerators()). */
  static async create(opts: { queues?: number } = {}): Promise<BenchNet> {
    const topo = await Topology.create(opts.queues === undefined ? {} : { queues: opts.queues });
    const agents: Partial<Record<Host, Agent>> = {};
    process.once('exit', () => Object.values(agents).forEach((a) => a.kill()));
    try {
      for (const h of ['client', 'fw', 'server'] as const) agents[h] = await Agent.start(topo.ns[h]);
      const net = new BenchNet(topo, agents as Record<Host, Agent>);
      await net.attach('server', 'eth0', 'sink');
      net.template = frame({
        src: ADDR.client4, dst: ADDR.server4, protocol: 'udp', sport: 1024, dport: SINK_PORT,
        srcMac: await net.mac('client', 'eth0'), dstMac: await net.mac('fw', 'trust0'), payload: Buffer.alloc(18),
      }).toString('hex');
      return net;
    } catch (err) {
      Object.values(agents).forEach((a) => a.kill());
      await topo.destroy();
      throw err;
    }
  }

  async mac(host: Host, dev: string): Promise<string> {
    const [link] = JSON.parse(await this.topo.sh(host, `ip -j link show dev ${dev}`)) as Array<{ address: string }>;
    return link!.address;
  }

  attach(host: Host, ifname: string, program: ProgramName): Promise<void> {
    return this.agents[host].call({ op: 'attach', ifname, program });
  }

  detach(host: Host, ifname: string): Promise<void> {
    return this.agents[host].call({ op: 'detach', ifname });
  }

  /** Frames counted by the sink on the server so far. */
  sunk(): Promise<number> {
    return this.agents.server.call({ op: 'count', ifname: 'eth0' });
  }

  /** Generates UDP frames from the client towards the server (flow n: source 10.1.0.2 + n / ports, port 1024 + n % ports). */
  generate(f: FlowSpec, agent = this.agents.client): Promise<GenResult> {
    const flows = f.flows ?? 1;
    const template = f.dport === undefined ? this.template : withDport(this.template, f.dport);
    const spec: GenSpec = {
      ifname: 'eth0', frame: template, frames: f.frames, rate: f.rate ?? 0, flows,
      ports: f.ports ?? Math.min(flows, 60_000), portBase: 1024, addrBase: ipv4Number(ADDR.client4), firstFlow: f.firstFlow ?? 0,
    };
    return agent.call({ op: 'gen', spec });
  }

  /** Delivered frames per second while the generator ran (what arrives later is not counted). */
  async delivered(f: FlowSpec): Promise<{ pps: number; sent: number; received: number; seconds: number }> {
    const before = await this.sunk();
    const g = await this.generate(f);
    const received = (await this.sunk()) - before;
    return { pps: received / g.seconds, sent: g.sent, received, seconds: g.seconds };
  }

  /**
   * Generators on the client, one per CPU given, each pinned there: a veth hands the frames a CPU
   * sends by XDP to its peer's RX queue `cpu % queues`. Killed by destroy().
   */
  async pinnedGenerators(cpus: number[]): Promise<Agent[]> {
    const agents: Agent[] = [];
    for (const cpu of cpus) {
      const a = await Agent.start(this.topo.ns.client, cpu);
      process.once('exit', () => a.kill());
      this.extra.push(a);
      agents.push(a);
    }
    return agents;
  }

  /** Delivered frames per second while several generators ran at once, each its own flows. */
  async deliveredFrom(agents: Agent[], specs: FlowSpec[]): Promise<{ pps: number; sent: number; received: number; seconds: number }> {
    const before = await this.sunk();
    const gens = await Promise.all(agents.map((a, i) => this.generate(specs[i]!, a)));
    const received = (await this.sunk()) - before;
    const seconds = Math.max(...gens.map((g) => g.seconds));
    return { pps: received / seconds, sent: gens.reduce((n, g) => n + g.sent, 0), received, seconds };
  }

  /** `xdpfw load` with this config in the firewall namespace. */
  async loadXdpfw(config: string): Promise<void> {
    const r = await this.topo.xdpfw(['load', '-c', this.topo.writeConfig(config)]);
    if (r.code !== 0) throw new Error(`xdpfw load: ${r.stderr}`);
  }

  async unloadXdpfw(): Promise<void> {
    const r = await this.topo.xdpfw(['unload']);
    if (r.code !== 0) throw new Error(`xdpfw unload: ${r.stderr}`);
  }

  daemonPid(): number {
    return Number.parseInt(readFileSync(statePaths(this.topo.stateDir).pidFile, 'utf8'), 10);
  }

  /**
   * Generates traffic in the background from an agent of its own (a
   * generator run blocks its agent) until stop(), which kills that agent.
   */
  async startBackground(f: FlowSpec): Promise<{ stop: () => void }> {
    const agent = await Agent.start(this.topo.ns.client);
    process.once('exit', () => agent.kill());
    this.generate(f, agent).catch(() => undefined); // ends when the agent is killed
    return { stop: () => agent.kill() };
  }

  async destroy(): Promise<void> {
    Object.values(this.agents).forEach((a) => a.kill());
    this.extra.forEach((a) => a.kill());
    await this.topo.destroy();
  }
}

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** The template with another UDP destination port (Ethernet 14 + IPv4 20 + 2). */
function withDport(hex: string, port: number): string {
  const b = Buffer.from(hex, 'hex');
  b.writeUInt16BE(port, 36);
  return b.toString('hex');
}
