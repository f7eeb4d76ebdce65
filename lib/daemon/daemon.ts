// The daemon: loads the dataplane for a config, runs the slow path, expires
// sessions and answers the control socket. Restarting it with the same state
// directory takes over the pinned links, maps and sessions without a gap in
// forwarding.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { type MetricsEndpoint, type MetricsSource, createRegistry, serveMetrics } from '../metrics/metrics.js';
import { loadConfigFile } from '../config/compile.js';
import type { CompiledConfig, Zone } from '../config/types.js';
import { serveControl } from '../control/server.js';
import type { ControlRequest } from '../control/protocol.js';
import { printHierarchical, printSet } from '../config/printer.js';
import { matchPolicies, policiesReport } from './policies-report.js';
import { recheckSessions } from './recheck.js';
import { applyScreens } from '../screens/apply.js';
import { screenStatsReport } from '../screens/stats.js';
import type { FilterEngine } from '../filter/engine.js';
import { type FirewallReport, firewallReport } from '../filter/report.js';
import { type AttachedInterface, Dataplane, type XdpMode, type XdpModeRequest, purgePins } from '../dataplane/dataplane.js';
import { ifNameToIndex, ifQueueCount, monotonicNs } from '../dataplane/native.js';
import { type LinkWarning, checkLink, formatWarning, refuseTooManyQueues } from '../dataplane/link-checks.js';
import { EventProducer } from '../events/producer.js';
import { BpfEventSource } from '../events/bpf-source.js';
import { formatter, type Formatter } from '../events/formats/index.js';
import { EventCodec, readEventConstants } from '../events/record.js';
import { configNameResolver } from '../events/resolver.js';
import { createSinks, eventRates, formatContext } from '../events/setup.js';
import type { EventSink } from '../events/sinks/sink.js';
import { sessionCloseEvent } from '../session/flow-events.js';
import { type NameResolver, SessionTable } from '../session/table.js';
import { QueueSocket } from '../slowpath/receiver.js';
import { LOCAL_ZONE, SlowPath } from '../slowpath/slowpath.js';
import { type CountersReport, type ReloadReport, type StatusReport, countersReport } from './reports.js';
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
/** How often the start-up checks run again: a veth's far end can change after load. */
const LINK_CHECK_INTERVAL_MS = 30_000;
const DEFAULT_METRICS_ENDPOINT: MetricsEndpoint = { address: '127.0.0.1', port: 9420 };

export class ConfigRejected extends Error {}

export function loadConfigOrThrow(path: string): CompiledConfig {
  const result = loadConfigFile(path);
  if (!result.ok) throw new ConfigRejected(result.errors.map((e) => e.toString()).join('\n'));
  return result.config;
}

export class Daemon {
  private sockets: QueueSocket[] = [];
  private interfaces: AttachedInterface[] = [];
  private xdpMode: XdpModeRequest = 'auto';
  private running = false;
  private expiryTimer: NodeJS.Timeout | null = null;
  private linkCheckTimer: NodeJS.Timeout | null = null;
  /** Warnings already written to the log, so each is logged once while it lasts. */
  private loggedWarnings = new Set<string>();
  /** The warnings as last checked, for the metrics (a scrape must not walk namespaces). */
  private lastWarnings: LinkWarning[] = [];
  private control: Server | null = null;
  private metrics: HttpServer | null = null;
  private bpfEvents: BpfEventSource | null = null;
  private sinks: EventSink[] = [];
  private jsonFormat: Formatter = () => '';
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
    private readonly events: EventProducer,
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
      const events = new EventProducer({ rates: eventRates(config.syslog) });
      const slowPath = new SlowPath(dataplane.progs, sessions, config, zoneByIfindex, (ev) => events.emit(ev));
      daemon = new Daemon(paths, config, dataplane, sessions, slowPath, events);
      slowPath.egressPort = (ifindex) => daemon?.sockets.find((s) => s.ifindex === ifindex);
      // A filter term's `log` stays on the box (show log, monitor); `syslog` goes to the collectors too.
      events.setExported((ev) => ev.kind !== 'filter-log' || slowPath.flowFilters.engine.result(ev.filterId, ev.termId)?.syslog !== false);
      applyScreens(dataplane, config); // before the links: the first packets are screened
      daemon.attachAll(opts.xdpMode ?? 'auto', zoneByIfindex);
      daemon.configureEvents();
      sessions.onClose((s, reason, totals) => {
        if (s.logClose) events.emit(sessionCloseEvent(s, reason, totals, monotonicNs()));
      });
      daemon.bpfEvents = new BpfEventSource(dataplane.mapFd('xdpfw_events'), new EventCodec(readEventConstants(dataplane.objectPath)), events);
      sessions.adopt(daemon.names(), Date.now() - Number(monotonicNs()) / 1e6);
      sessions.sweepOrphans();
      slowPath.restoreLimits();
      for (const s of daemon.sockets) s.start(slowPath);
      daemon.running = true;
      daemon.expiryTimer = setInterval(() => daemon?.expire(), EXPIRY_INTERVAL_MS);
      daemon.logLinkWarnings();
      daemon.linkCheckTimer = setInterval(() => daemon?.logLinkWarnings(), LINK_CHECK_INTERVAL_MS);
      daemon.metrics = await serveMetrics(createRegistry(daemon.metricsSource()), DEFAULT_METRICS_ENDPOINT).catch((err: Error) => {
        throw new Error(`metrics: cannot listen on ${DEFAULT_METRICS_ENDPOINT.address}:${DEFAULT_METRICS_ENDPOINT.port}: ${err.message}`);
      });
      daemon.control = await serveControl(paths.socket, (req) => daemon!.command(req), (req, send) =>
        events.subscribe((ev) => send(daemon!.jsonFormat(ev)), req.kinds?.length ? new Set(req.kinds) : undefined));
      writeFileSync(paths.pidFile, `${process.pid}\n`);
      return daemon;
    } catch (err) {
      daemon?.metrics?.close();
      daemon?.bpfEvents?.close();
      for (const s of daemon?.sinks ?? []) s.close();
      for (const s of daemon?.sockets ?? []) s.close();
      if (daemon?.expiryTimer) clearInterval(daemon.expiryTimer);
      if (daemon?.linkCheckTimer) clearInterval(daemon.linkCheckTimer);
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
    this.xdpMode = mode;
    for (const name of this.config.interfaces) this.attachInterface(name, previous.modes[name]);
    for (const i of this.interfaces) {
      const zone = this.config.zoneByInterface.get(i.name);
      if (zone) zoneByIfindex.set(i.ifindex, zone);
    }
    this.dataplane.detachOthers(new Set(this.config.interfaces));
    this.saveRuntime();
  }

  private attachInterface(name: string, previousMode?: XdpMode): void {
    const used = new Set(this.interfaces.map((i) => i.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const zone = this.config.zoneByInterface.get(name) ?? null;
    const ifindex = ifNameToIndex(name);
    const queues = ifQueueCount(name);
    const { maxQueues, xskFrameSize } = this.dataplane.constants;
    refuseTooManyQueues(name, ifindex, queues, maxQueues);
    for (let q = 0; q < queues; q++) {
      const sock = new QueueSocket(name, ifindex, q, zone, xskFrameSize);
      this.sockets.push(sock);
      this.dataplane.registerSocket(slot, q, sock.fd);
      if (this.running) sock.start(this.slowPath);
    }
    this.interfaces.push(this.dataplane.attach(name, slot, zone?.id ?? 0, this.xdpMode, previousMode));
  }

  private detachInterface(name: string): void {
    const i = this.interfaces.find((x) => x.name === name);
    if (!i) return;
    for (const s of this.sockets.filter((x) => x.ifname === name)) s.close();
    this.sockets = this.sockets.filter((x) => x.ifname !== name);
    this.dataplane.detach(name);
    this.dataplane.forgetInterface(i.ifindex);
    this.interfaces = this.interfaces.filter((x) => x !== i);
  }

  /** What would silently lose traffic on the attached interfaces, checked now. */
  private linkWarnings(): LinkWarning[] {
    this.lastWarnings = this.interfaces.flatMap((i) => checkLink(i.ifindex, i.mode, this.dataplane.constants.slowPathMaxFrame));
    return this.lastWarnings;
  }

  /** Writes each new warning to the daemon's log once (and again if it comes back after a fix). */
  private logLinkWarnings(): void {
    try {
      const now = new Set<string>();
      for (const w of this.linkWarnings()) {
        const text = formatWarning(w);
        now.add(text);
        if (!this.loggedWarnings.has(text)) process.stderr.write(`xdpfw: ${text}\n`);
      }
      this.loggedWarnings = now;
    } catch (err) {
      process.stderr.write(`xdpfw: interface checks failed: ${(err as Error).message}\n`);
    }
  }

  private saveRuntime(): void {
    writeRuntime(this.paths, { modes: Object.fromEntries(this.interfaces.map((i) => [i.name, i.mode])) });
  }

  /**
   * Applies a new config: nothing changes unless it compiles and every
   * interface it names exists. Sessions are judged again; those the new
   * config no longer permits are closed with reason 'policy change'.
   */
  reload(configPath: string): ReloadReport {
    const result = loadConfigFile(configPath);
    if (!result.ok) {
      throw new ConfigRejected(`configuration rejected, the running one stays:\n${result.errors.map((e) => e.toString()).join('\n')}`);
    }
    const next = result.config;
    for (const name of next.interfaces) ifNameToIndex(name); // throws ENODEV before anything changes
    const previous = new Set(this.config.interfaces);
    const wanted = new Set(next.interfaces);
    const removed = [...previous].filter((n) => !wanted.has(n));
    const added = next.interfaces.filter((n) => !previous.has(n));
    this.config = next;
    for (const name of removed) this.detachInterface(name);
    for (const name of added) this.attachInterface(name);
    const zoneByIfindex = new Map<number, Zone>();
    for (const i of this.interfaces) {
      const zone = next.zoneByInterface.get(i.name) ?? null;
      this.dataplane.setInterfaceZone(i.ifindex, i.slot, zone?.id ?? 0);
      for (const s of this.sockets) if (s.ifname === i.name) s.setZone(zone);
      if (zone) zoneByIfindex.set(i.ifindex, zone);
    }
    applyScreens(this.dataplane, next);
    this.saveRuntime();
    this.configureEvents();
    this.sessions.configure(next.flow.timeouts, next.flow.maxSessions);
    const filters = this.slowPath.nextFilters(next);
    filters.engine.carryCountsFrom(this.foldFilterCounters());
    this.slowPath.setConfig(next, zoneByIfindex, filters);
    const recheck = recheckSessions(this.sessions, this.slowPath.policies, zoneByIfindex, filters);
    return {
      config: next.source,
      interfaces: { added, removed },
      sessions: { kept: recheck.kept, relabelled: recheck.relabelled, refiltered: recheck.refiltered, closed: recheck.closed.length },
    };
  }

  private firewallReport(only?: string): FirewallReport {
    return firewallReport(this.config, this.slowPath.flowFilters.engine, (ix) => this.dataplane.readFilterCounters(ix), only);
  }

  /**
   * Moves what XDP counted into the running filter engine's totals and zeroes XDP's counters,
   * whose indexes the next configuration numbers anew. Returns that engine, to carry from.
   */
  private foldFilterCounters(): FilterEngine {
    const engine = this.slowPath.flowFilters.engine;
    const indexes = engine.counts().map((c) => c.index);
    for (const [index, c] of this.dataplane.readFilterCounters(indexes)) engine.addCounts(index, c.packets, c.bytes);
    this.dataplane.resetFilterCounters(indexes);
    return engine;
  }

  private names(): NameResolver {
    return {
      zoneName: (id) => this.config.zones.find((z) => z.id === id)?.name ?? (id === 0 ? LOCAL_ZONE : `zone-${id}`),
      policyName: (id) => this.config.policies.find((p) => p.id === id)?.name ?? (id === 0 ? 'default-policy' : `policy-${id}`),
      logsClose: (id) => this.config.policies.find((p) => p.id === id)?.logClose ?? false,
    };
  }

  /** Sinks, rates and names from the current config; old sinks close after the switch. */
  private configureEvents(): void {
    const names = configNameResolver(this.config, new Map(this.interfaces.map((i) => [i.ifindex, i.name])));
    const old = this.sinks;
    this.sinks = createSinks(this.config.syslog, formatContext(this.config.syslog, names));
    this.events.setSinks(this.sinks);
    this.events.setRates(eventRates(this.config.syslog));
    this.jsonFormat = formatter('json', formatContext(this.config.syslog, names));
    for (const s of old) s.close();
  }

  private expire(): void {
    try {
      this.sessions.expire();
    } catch (err) {
      process.stderr.write(`xdpfw: session expiry failed: ${(err as Error).message}\n`);
    }
  }

  private async command(req: ControlRequest): Promise<unknown> {
    switch (req.command) {
      case 'status': return this.status();
      case 'show-sessions': return this.sessions.list();
      case 'show-counters': return this.counters();
      case 'show-policies': return policiesReport(this.config, this.slowPath.policies);
      case 'show-config': return { text: req.format === 'set' ? printSet(this.config.tree) : printHierarchical(this.config.tree) };
      case 'match-policies': return matchPolicies(this.slowPath.policies, this.config, req.query);
      case 'show-firewall': return this.firewallReport(req.filter);
      case 'show-screen-statistics': return screenStatsReport(this.dataplane, this.config, this.slowPath.limiter, req.zone);
      case 'clear-sessions': return { cleared: this.sessions.clear() };
      case 'show-log': return this.events.recent(req.kinds?.length ? new Set(req.kinds) : undefined).map((ev) => JSON.parse(this.jsonFormat(ev)) as unknown);
      case 'monitor-events': throw new Error('monitor-events is a stream');
      case 'reload': return this.reload(req.configPath);
      case 'unload':
        // Answer first; the caller waits for the pid to disappear.
        setImmediate(() => void this.stop({ purge: true }));
        return { unloading: true };
    }
  }

  private metricsSource(): MetricsSource {
    return {
      xdpCounters: () => this.dataplane.readCounters(),
      slowPath: () => this.slowPath.stats,
      sessions: () => ({ active: this.sessions.size, stats: this.sessions.stats }),
      queues: () => this.sockets.map((s) => s.stats()),
      interfaces: () => this.interfaces.map((i) => ({ name: i.name, mode: i.mode })),
      events: () => this.events.counters(),
      screens: () => screenStatsReport(this.dataplane, this.config, this.slowPath.limiter),
      firewall: () => this.firewallReport(),
      linkWarnings: () => this.lastWarnings,
      policyHits: () => [...this.slowPath.policies.hitCounts()].map(([id, hits]) => {
        const p = this.config.policies.find((x) => x.id === id);
        return { policy: p?.name ?? 'default-policy', fromZone: p?.fromZone ?? 'global', toZone: p?.toZone ?? 'global', hits };
      }),
    };
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
      warnings: this.linkWarnings(),
    };
  }

  counters(): CountersReport {
    return countersReport(this.dataplane.readCounters(), this.slowPath.stats, this.sessions.stats,
      { counters: this.events.counters(), sinks: this.events.sinkStats() });
  }

  /** Stops serving. With purge, also detaches XDP and removes every pin (unload). */
  stop(opts: { purge: boolean }): Promise<void> {
    this.stopping ??= (async () => {
      if (this.expiryTimer) clearInterval(this.expiryTimer);
      if (this.linkCheckTimer) clearInterval(this.linkCheckTimer);
      for (const s of this.sockets) s.close();
      this.bpfEvents?.close();
      for (const s of this.sinks) s.close();
      await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
      this.metrics?.close();
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
