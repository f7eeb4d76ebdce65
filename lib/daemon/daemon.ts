// The daemon: loads the dataplane for a config, runs the slow path, expires
// sessions and answers the control socket. Restarting it with the same state
// directory takes over the pinned links, maps and sessions without a gap in
// forwarding.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { loadConfigFile } from '../config/compile.js';
import type { CompiledConfig, Zone } from '../config/types.js';
import { serveControl } from '../control/server.js';
import type { ControlCommand } from '../control/protocol.js';
import { type AttachedInterface, Dataplane, type XdpMode, type XdpModeRequest, purgePins } from '../dataplane/dataplane.js';
import { ifNameToIndex, ifQueueCount, monotonicNs } from '../dataplane/native.js';
import { SessionTable } from '../session/table.js';
import { QueueSocket } from '../slowpath/receiver.js';
import { LOCAL_ZONE, SlowPath } from '../slowpath/slowpath.js';
import { type CountersReport, type StatusReport, countersReport } from './reports.js';
import { type StatePaths, statePaths } from './state-paths.js';

export interface DaemonOptions {
  configPath: string;
  stateDir?: string;
  xdpMode?: XdpModeRequest;
}

interface RuntimeRecord {
  modes: Record<string, XdpMode>;
}

const EXPIRY_INTERVAL_MS = 1000;

export class ConfigRejected extends Error {}

export function loadConfigOrThrow(path: string): CompiledConfig {
  const result = loadConfigFile(path);
  if (!result.ok) throw new ConfigRejected(result.errors.map((e) => e.toString()).join('\n'));
  return result.config;
}

export class Daemon {
  private readonly sockets: QueueSocket[] = [];
  private interfaces: AttachedInterface[] = [];
  private expiryTimer: NodeJS.Timeout | null = null;
  private control: Server | null = null;
  private readonly startedAtMs = Date.now();
  private stopping: Promise<void> | null = null;
  /** Resolves when the daemon has stopped (after unload or a signal). */
  readonly stopped: Promise<void>;
  private markStopped: () => void = () => {};

  private constructor(
    readonly paths: StatePaths,
    private config: CompiledConfig,
    private readonly dataplane: Dataplane,
    private readonly sessions: SessionTable,
    private readonly slowPath: SlowPath,
  ) {
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const config = loadConfigOrThrow(opts.configPath);
    const paths = statePaths(opts.stateDir);
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
    refuseSecondDaemon(paths);

    // A failed first start must leave nothing behind; a failed restart must
    // leave the previous run's links and sessions as they were.
    const firstStart = !existsSync(paths.mapPinDir);
    const dataplane = new Dataplane(paths);
    let daemon: Daemon | null = null;
    try {
      const sessions = new SessionTable(
        dataplane.mapFd('xdpfw_sessions'), dataplane.constants.sessionFlags, config.flow.timeouts, config.flow.maxSessions,
      );
      const zoneByIfindex = new Map<number, Zone>();
      const slowPath = new SlowPath(dataplane.progs, sessions, config, zoneByIfindex);
      daemon = new Daemon(paths, config, dataplane, sessions, slowPath);
      daemon.attachAll(opts.xdpMode ?? 'auto', zoneByIfindex);
      sessions.adopt(daemon.names(), Date.now() - Number(monotonicNs()) / 1e6);
      for (const s of daemon.sockets) s.start(slowPath);
      daemon.expiryTimer = setInterval(() => daemon?.expire(), EXPIRY_INTERVAL_MS);
      daemon.control = await serveControl(paths.socket, (cmd) => daemon!.command(cmd));
      writeFileSync(paths.pidFile, `${process.pid}\n`);
      return daemon;
    } catch (err) {
      for (const s of daemon?.sockets ?? []) s.close();
      if (daemon?.expiryTimer) clearInterval(daemon.expiryTimer);
      dataplane.close();
      if (firstStart) purgePins(paths);
      throw err;
    }
  }

  /**
   * Sockets first, then the link: a new link must never see a queue without
   * its socket, and a taken-over link keeps forwarding established flows
   * until it switches to this run's program.
   */
  private attachAll(mode: XdpModeRequest, zoneByIfindex: Map<number, Zone>): void {
    const previous = readRuntime(this.paths);
    const configured = this.config.interfaces;
    configured.forEach((name, slot) => {
      const zone = this.config.zoneByInterface.get(name) ?? null;
      const ifindex = ifNameToIndex(name);
      const queues = ifQueueCount(name);
      for (let q = 0; q < queues; q++) {
        const sock = new QueueSocket(name, ifindex, q, zone);
        this.sockets.push(sock);
        this.dataplane.registerSocket(slot, q, sock.fd);
      }
      const attached = this.dataplane.attach(name, slot, zone?.id ?? 0, mode, previous.modes[name]);
      this.interfaces.push(attached);
      if (zone) zoneByIfindex.set(attached.ifindex, zone);
    });
    this.dataplane.detachOthers(new Set(configured));
    writeRuntime(this.paths, { modes: Object.fromEntries(this.interfaces.map((i) => [i.name, i.mode])) });
  }

  private names(): { zoneName(id: number): string; policyName(id: number): string } {
    return {
      zoneName: (id) => this.config.zones.find((z) => z.id === id)?.name ?? (id === 0 ? LOCAL_ZONE : `zone-${id}`),
      policyName: (id) => this.config.policies.find((p) => p.id === id)?.name ?? (id === 0 ? 'default-policy' : `policy-${id}`),
    };
  }

  private expire(): void {
    try {
      this.sessions.expire();
    } catch (err) {
      process.stderr.write(`xdpfw: session expiry failed: ${(err as Error).message}\n`);
    }
  }

  private async command(cmd: ControlCommand): Promise<unknown> {
    switch (cmd) {
      case 'status': return this.status();
      case 'show-sessions': return this.sessions.list();
      case 'show-counters': return this.counters();
      case 'clear-sessions': return { cleared: this.sessions.clear() };
      case 'unload':
        // Answer first; the caller waits for the pid to disappear.
        setImmediate(() => void this.stop({ purge: true }));
        return { unloading: true };
      default: throw new Error(`unknown command ${String(cmd)}`);
    }
  }

  status(): StatusReport {
    return {
      pid: process.pid,
      config: this.config.source,
      stateDir: this.paths.stateDir,
      uptimeSeconds: Math.floor((Date.now() - this.startedAtMs) / 1000),
      interfaces: this.interfaces.map((i) => ({
        name: i.name,
        ifindex: i.ifindex,
        xdpMode: i.mode,
        zone: this.config.zoneByInterface.get(i.name)?.name ?? null,
        queues: this.sockets.filter((s) => s.ifname === i.name).map((s) => s.stats()),
      })),
      sessions: { active: this.sessions.size, max: this.config.flow.maxSessions },
    };
  }

  counters(): CountersReport {
    return countersReport(this.dataplane.readCounters(), this.slowPath.stats, this.sessions.stats);
  }

  /** Stops serving. With purge, also detaches XDP and removes every pin (unload). */
  stop(opts: { purge: boolean }): Promise<void> {
    this.stopping ??= (async () => {
      if (this.expiryTimer) clearInterval(this.expiryTimer);
      for (const s of this.sockets) s.close();
      await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
      this.dataplane.close();
      if (opts.purge) {
        purgePins(this.paths);
        rmSync(this.paths.runtimeFile, { force: true });
      }
      rmSync(this.paths.pidFile, { force: true });
      rmSync(this.paths.socket, { force: true });
      this.markStopped();
    })();
    return this.stopping;
  }
}

function refuseSecondDaemon(paths: StatePaths): void {
  if (!existsSync(paths.pidFile)) return;
  const pid = Number.parseInt(readFileSync(paths.pidFile, 'utf8'), 10);
  if (!Number.isInteger(pid) || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file of a daemon that died
  }
  throw new Error(`an xdpfw daemon (pid ${pid}) already runs with state directory ${paths.stateDir}`);
}

function readRuntime(paths: StatePaths): RuntimeRecord {
  try {
    return JSON.parse(readFileSync(paths.runtimeFile, 'utf8')) as RuntimeRecord;
  } catch {
    return { modes: {} };
  }
}

function writeRuntime(paths: StatePaths, record: RuntimeRecord): void {
  writeFileSync(paths.runtimeFile, `${JSON.stringify(record)}\n`);
}
