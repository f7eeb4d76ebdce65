// The daemon: loads the dataplane for a config, runs the slow path, expires
// sessions and answers the control socket. Restarting it with the same state
// directory takes over the pinned links, maps and sessions without a gap in
// forwarding.
import { NatSessions } from '../nat/nat-sessions.js';
import { natRefusalLog, sourceNatOf } from '../nat/daemon-nat.js';
import { eventNat } from '../nat/event-nat.js';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { haOf } from '../ha/check.js';
import { HaRoles, type HaStatus } from '../ha/roles.js';
import { HaSessions } from '../ha/sessions.js';
import { NotifyFifo, ticksNow } from '../ha/notify-fifo.js';
import { type HaRole, notifyFifoPath } from '../ha/keepalived.js';
import type { HaConfig } from '../ha/types.js';
import { RouteBatch } from '../slowpath/route-batch.js';
import { TcpStates } from '../session/tcp.js';
import type { Server } from 'node:net';
import { type MetricsSource, createRegistry } from '../metrics/metrics.js';
import { MetricsService } from '../metrics/endpoint.js';
import { XdpEventBudget } from '../events/xdp-budget.js';
import { type LossesReport, lossesReport, noneSuppressed } from './losses.js';
import { loadConfigFile, recompilePolicies, type CompileOptions } from '../config/compile.js';
import { DEFAULT_DNS_TIMING, DnsAddresses } from '../dns-names/addresses.js';
import { readVlanUnits, trunkFlag, vlanUnitEntries, writeVlanUnits, type VlanUnitEntry, type VlanUnitMaps } from '../dataplane/vlan-units.js';
import { ensureUnitDevices, removeUnitDevices } from '../interfaces/unit-devices.js';
import { attachUnitTx, unitDevicesOf, unpinUnitTx } from '../interfaces/unit-links.js';
import type { CompiledConfig, Zone } from '../config/types.js';
import { type ControlStats, serveControl } from '../control/server.js';
import type { ControlRequest } from '../control/protocol.js';
import { printHierarchical, printSet } from '../config/printer.js';
import { matchPolicies, policiesReport } from './policies-report.js';
import { applyRecheck, planRecheck } from './recheck.js';
import { applyScreens, encodeScreens, writeScreens } from '../screens/apply.js';
import { HandshakeOnlyCounts } from '../screens/syn-ack-ack-proxy.js';
import { neighborProxyEntries, readNeighborProxies, writeNeighborProxies } from '../nat/neighbor-proxy-map.js';
import { neighborProxyReport } from '../nat/proxy-report.js';
import { passedEthertypes, writePassEthertypes } from '../verify/ethertypes.js';
import { recheckAdopted } from './restart-recheck.js';
import { screenStatsReport } from '../screens/stats.js';
import type { FilterEngine } from '../filter/engine.js';
import { type FirewallReport, firewallReport } from '../filter/report.js';
import { type AttachedInterface, Dataplane, type XdpMode, type XdpModeRequest, purgePins } from '../dataplane/dataplane.js';
import { btfEnum, ifNameToIndex, ifQueueCount, monotonicNs } from '../dataplane/native.js';
import { type LinkWarning, checkLink, formatWarning, refuseTooManyQueues } from '../dataplane/link-checks.js';
import { EventProducer } from '../events/producer.js';
import { BpfEventSource } from '../events/bpf-source.js';
import { formatter, type Formatter } from '../events/formats/index.js';
import { EventCodec, readEventConstants } from '../events/record.js';
import { configNameResolver } from '../events/resolver.js';
import { createSinks, eventRates, formatContext } from '../events/setup.js';
import type { EventSink } from '../events/sinks/sink.js';
import { sessionCloseEvent } from '../session/flow-events.js';
import { closesFromXdp } from '../session/xdp-closes.js';
import { VerdictRows } from '../session/verdict-rows.js';
import { type NameResolver, SessionTable } from '../session/table.js';
import { clearMatchingSessions, showSessions } from '../session/commands.js';
import type { QueryNames } from '../session/query.js';
import { FilterNames } from '../filter/names.js';
import { QueueSocket } from '../slowpath/receiver.js';
import { QueueWorkers, queueWorkersFor } from '../workers/pool.js';
import type { SlowPathSocket } from '../workers/socket.js';
import { LOCAL_ZONE, SlowPath } from '../slowpath/slowpath.js';
import { type CountersReport, type ReloadReport, type StatusReport, countersReport } from './reports.js';
import { identifyDaemon, writePidFile } from './pid-file.js';
import { type StatePaths, statePaths } from './state-paths.js';
import { attachFailure, missingInterfaces } from './interface-errors.js';
import { UndoLog } from './undo-log.js';
import { IdentityRegistry } from '../identity/registry.js';
import { carriedIds } from '../identity/carried.js';
import { CommitArchive } from '../commit/archive.js';
import { Commits } from '../commit/commits.js';
import { configDiff } from '../commit/daemon-diff.js';
import { notifyCommit } from '../commit/notify.js';
import { FloodMeters } from '../flood/meters.js';
import { DenyCache } from '../flood/deny-cache.js';
import type { DropMonitor } from '../monitor/drop-monitor.js';
import { RouteWatch } from '../routes/route-watch.js';
import { createDropMonitor } from '../monitor/setup.js';
import { Tracer } from '../trace/setup.js';
import { ExpiryRunner } from '../session/expiry-runner.js';

export interface DaemonOptions {
  configPath: string;
  stateDir?: string;
  xdpMode?: XdpModeRequest;
  /** How the config is read: unsupported statements ignored, the cluster node. */
  compileOptions?: CompileOptions;
  /** Junos interface names → Linux interfaces (lib/interfaces/map-file.ts). */
  interfaceMap?: string | null;
  /** Shortest time a dns-name answer is kept, in seconds (default 10). */
  dnsMinTtl?: number;
  /** conntrackd's configuration (high availability): committed from when this box becomes active. */
  conntrackdConfig?: string | null;
}

interface RuntimeRecord {
  modes: Record<string, XdpMode>;
}

const EXPIRY_INTERVAL_MS = 1000;
/** How often the start-up checks run again: a veth's far end can change after load. */
const LINK_CHECK_INTERVAL_MS = 30_000;

export class ConfigRejected extends Error {}

export function loadConfigOrThrow(path: string, options: CompileOptions = {}, interfaceMap: string | null = null): CompiledConfig {
  const result = loadConfigFile(path, options, interfaceMap);
  if (!result.ok) throw new ConfigRejected(result.errors.map((e) => e.toString()).join('\n'));
  const missing = missingInterfaces(result.config);
  if (missing.length) throw new ConfigRejected(`${missing.join('\n')}\nnothing was loaded`);
  return result.config;
}

const STAYS = 'the running configuration stays';

export class Daemon {
  private sockets: SlowPathSocket[] = [];
  /** One thread per RX queue owning the AF_XDP sockets of interfaces with several queues. */
  private readonly queueWorkers = new QueueWorkers();
  private interfaces: AttachedInterface[] = [];
  private xdpMode: XdpModeRequest = 'auto';
  /** The interface map the running config was resolved with; a reload without one keeps it. */
  private interfaceMap: string | null = null;
  private running = false;
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryRunner: ExpiryRunner | null = null;
  private linkCheckTimer: NodeJS.Timeout | null = null;
  /** Warnings already written to the log, so each is logged once while it lasts. */
  private loggedWarnings = new Set<string>();
  /** The warnings as last checked, for the metrics (a scrape must not walk namespaces). */
  private lastWarnings: LinkWarning[] = [];
  private control: Server | null = null;
  private metrics: MetricsService | null = null;
  private bpfEvents: BpfEventSource | null = null;
  private dropMonitor: DropMonitor | null = null;
  /** Route changes invalidate the egress XDP keeps per session (lib/routes/route-watch.ts). */
  private routeWatch: RouteWatch | null = null;
  private tracer: Tracer | null = null;
  private xdpBudget: XdpEventBudget | null = null;
  /** Answers of the config's dns-name addresses (lib/dns-names/). */
  private dns = new DnsAddresses();
  /** The flood meters' budgets and deny-cache generation (lib/flood/). */
  private flood: FloodMeters | null = null;
  private sinks: EventSink[] = [];
  private readonly controlStats: ControlStats = { rejected: 0 };
  private jsonFormat: Formatter = () => '';
  private readonly startedAtMs = Date.now();
  private stopping: Promise<void> | null = null;
  /** How configs are read (the cluster node; whether unsupported statements were ignored at start). */
  compileOptions: CompileOptions = {};
  /** The ids sessions and events carry, kept in the state directory. */
  private identities: IdentityRegistry = IdentityRegistry.empty(null);
  /** The commit archive, confirm deadline and rollbacks (lib/commit/). */
  private commits: Commits | null = null;
  /** Told when a reload begins and ends, whatever its outcome (the service manager's RELOADING=1 / READY=1). */
  reloadHooks: { begin(configPath: string): void; end(): void } = { begin: () => {}, end: () => {} };
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
    let config = loadConfigOrThrow(opts.configPath, opts.compileOptions, opts.interfaceMap ?? null);
    // dns-name addresses are resolved before the first packet is judged.
    const dns = new DnsAddresses({ ...DEFAULT_DNS_TIMING, minTtl: opts.dnsMinTtl ?? DEFAULT_DNS_TIMING.minTtl });
    dns.configure(config.dnsNames, config.nameServers);
    await dns.settled();
    if (config.dnsNames.length) config = { ...config, policies: recompilePolicies(config, dns.answers()) ?? config.policies };
    const paths = statePaths(opts.stateDir);
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
    refuseSecondDaemon(paths);
    const identities = IdentityRegistry.load(paths.identitiesFile).assign(config);

    // A failed first start must leave nothing behind; a failed restart must
    // leave the previous run's links and sessions as they were.
    const firstStart = !existsSync(paths.mapPinDir);
    const dataplane = new Dataplane(paths);
    let daemon: Daemon | null = null;
    try {
      const sessions = new SessionTable(
        dataplane.mapFd('xdpfw_sessions'), dataplane.constants.sessionFlags, config.flow.timeouts, config.flow.maxSessions,
        dataplane.constants.tcp, new VerdictRows(dataplane.mapFd('xdpfw_verdict_rows'), dataplane.constants.maxVerdictRows),
      );
      const zoneByIfindex = new Map<number, Zone>();
      const events = new EventProducer({ rates: eventRates(config.syslog) });
      const slowPath = new SlowPath(dataplane.progs, sessions, config, zoneByIfindex, (ev) => events.emit(ev), undefined,
        { write: (index, program) => dataplane.writeFilterProgram(index, program) });
      daemon = new Daemon(paths, config, dataplane, sessions, slowPath, events);
      daemon.dns = dns;
      dns.onChange = () => daemon?.applyDnsAnswers();
      // The node stays; ignoring unsupported statements is asked for by each load or reload.
      daemon.compileOptions = { node: opts.compileOptions?.node };
      daemon.interfaceMap = opts.interfaceMap ?? null;
      daemon.identities = identities;
      identities.save();
      slowPath.kernel = dataplane.kernelPath;
      slowPath.egressPort = (ifindex) => {
        const port = daemon?.queueWorkers.egressPort(ifindex);
        return port === undefined ? daemon?.sockets.find((s) => s.ifindex === ifindex) : port ?? undefined;
      };
      // A filter term's `log` stays on the box (show log, monitor); `syslog` goes to the collectors too.
      events.setExported((ev) => ev.kind !== 'filter-log' || slowPath.flowFilters.engine.result(ev.filterId, ev.termId)?.syslog !== false);
      applyScreens(dataplane, config); // before the links: the first packets are screened
      const handshakeOnly = HandshakeOnlyCounts.of(dataplane);
      sessions.onHandshakeOnlyRemoved = (s) => handshakeOnly.release(s.fromZoneId, s.key);
      dataplane.setTcpSettings(config.flow.tcpSession);
      dataplane.writePolicers(slowPath.flowFilters.engine.policers());
      daemon.flood = new FloodMeters(dataplane.objectPath, dataplane.mapFd('xdpfw_flood_settings'));
      daemon.flood.configure(config.flow.slowPathBudget);
      const denyCache = new DenyCache(dataplane.mapFd('xdpfw_deny_cache'), () => daemon?.flood?.generation ?? 0);
      slowPath.onDeny = (flow) => denyCache.remember(flow);
      writePassEthertypes(dataplane, config.passEthertypes);
      writeNeighborProxies(dataplane, neighborProxyEntries(config.neighborProxies));
      slowPath.nat = new NatSessions(dataplane.mapFd('xdpfw_nat_sessions'), dataplane.mapFd('xdpfw_nat_settings'), dataplane.constants.natActive);
      slowPath.nat.configure(sourceNatOf(config));
      slowPath.onNatRefused = natRefusalLog();
      const eventConstants = readEventConstants(dataplane.objectPath);
      daemon.xdpBudget = new XdpEventBudget(dataplane, eventConstants.kinds);
      daemon.xdpBudget.setRates(eventRates(config.syslog));
      daemon.attachAll(opts.xdpMode ?? 'auto', zoneByIfindex);
      daemon.configureEvents();
      sessions.onClose((s, reason, totals, logged) => {
        if (!s.logClose || logged) return;
        const ev = sessionCloseEvent(s, reason, totals, monotonicNs());
        const translated = eventNat(slowPath.nat, s.id);
        if (translated) ev.nat = translated;
        events.emit(ev);
      });
      // After the close event is written: a session's translation goes with it, however it ends.
      sessions.onClose((s) => slowPath.nat?.release(s.id));
      const d0 = daemon;
      daemon.haSessions = new HaSessions({
        sessions, mapFd: dataplane.mapFd('xdpfw_sessions'), tcpStates: new TcpStates(dataplane.constants.tcp.states),
        localFlag: dataplane.constants.sessionFlags.local, routes: new RouteBatch(dataplane.progs.routeBatch),
        judges: () => ({ policies: slowPath.policies, zones: slowPath.zones, filters: slowPath.flowFilters, logsClose: (id) => d0.names().logsClose(id) }),
        conntrackdConfig: opts.conntrackdConfig ?? null,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      sessions.onClose((s) => d0.haSessions?.onClose(s));
      daemon.bpfEvents = new BpfEventSource(dataplane.mapFd('xdpfw_events'), new EventCodec(eventConstants),
        closesFromXdp(sessions, events, (id) => eventNat(slowPath.nat, id)), slowPath.faults);
      daemon.dropMonitor = createDropMonitor(dataplane, (ifindex) => daemon!.ingressNames(ifindex));
      slowPath.dropTap = daemon.dropMonitor;
      daemon.routeWatch = new RouteWatch(dataplane.mapFd('xdpfw_route_lease'), (m) => process.stderr.write(`xdpfw: ${m}\n`)).start();
      sessions.adopt(daemon.names(), Date.now() - Number(monotonicNs()) / 1e6);
      sessions.sweepOrphans();
      slowPath.restoreLimits();
      recheckAdopted(sessions, slowPath, zoneByIfindex);
      for (const s of daemon.sockets) s.start(slowPath);
      daemon.running = true;
      daemon.configureHa(haOf(config.tree));
      daemon.expiryTimer = setInterval(() => daemon?.expire(), EXPIRY_INTERVAL_MS);
      daemon.logLinkWarnings();
      daemon.linkCheckTimer = setInterval(() => daemon?.logLinkWarnings(), LINK_CHECK_INTERVAL_MS);
      const d = daemon;
      // A rollback re-applies what the box ran: statements it ran without are left out again.
      d.commits = new Commits(new CommitArchive(paths.commitDir),
        (path, how) => d.reloadAndMoveMetrics(path, how?.ignoreUnsupported ?? true, how?.interfaceMap),
        (n) => notifyCommit(n, d.config.syslog, formatContext(d.config.syslog, configNameResolver(d.config, new Map())).hostname));
      try {
        d.commits.started(opts.configPath);
      } catch (err) {
        process.stderr.write(`xdpfw: the commit archive in ${paths.commitDir} could not record the start: ${(err as Error).message}\n`);
      }
      daemon.metrics = new MetricsService(createRegistry(daemon.metricsSource()));
      await daemon.metrics.start(config.metrics);
      daemon.control = await serveControl(paths.socket, (req) => daemon!.command(req), (req, send) => req.command === 'monitor-packet-drop'
        ? daemon!.dropMonitor!.subscribe(req.query, req.perSecond, send)
        : events.subscribe((ev) => send(daemon!.jsonFormat(ev)), req.kinds?.length ? new Set(req.kinds) : undefined), daemon.controlStats);
      writePidFile(paths);
      return daemon;
    } catch (err) {
      dns.close();
      daemon?.commits?.close(false);
      daemon?.metrics?.close();
      daemon?.bpfEvents?.close();
      daemon?.dropMonitor?.close();
      daemon?.routeWatch?.close();
      daemon?.haSessions?.close();
      daemon?.notifyFifo?.close();
      for (const s of daemon?.sinks ?? []) s.close();
      for (const s of daemon?.sockets ?? []) s.close();
      daemon?.queueWorkers?.stop();
      if (daemon?.expiryTimer) clearInterval(daemon.expiryTimer);
      if (daemon?.linkCheckTimer) clearInterval(daemon.linkCheckTimer);
      dataplane.close();
      if (firstStart) {
        purgePins(paths);
        removeUnitDevices(paths.stateDir);
      }
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
    ensureUnitDevices(unitDevicesOf(this.config.trunks), this.paths.stateDir);
    for (const name of this.config.interfaces) {
      try {
        this.attachInterface(name, this.config.zoneByInterface.get(name) ?? null, previous.modes[name]);
      } catch (err) {
        throw new Error(attachFailure(this.config, name, mode, err).toString());
      }
    }
    for (const i of this.interfaces) {
      const zone = this.config.zoneByInterface.get(i.name);
      if (zone) zoneByIfindex.set(i.ifindex, zone);
    }
    const internals = this.attachUnitsTx(this.config);
    this.dataplane.detachOthers(new Set([...this.config.interfaces, ...internals]));
    writeVlanUnits(this.vlanMaps(), this.vlanUnits(this.config));
    this.saveRuntime();
  }

  /**
   * Sockets, then the interface's slot and zone, then the link. On failure
   * everything made for this interface is undone before the error is thrown.
   */
  private attachInterface(name: string, zone: Zone | null, previousMode?: XdpMode): void {
    const used = new Set(this.interfaces.map((i) => i.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    const ifindex = ifNameToIndex(name);
    const sockets: SlowPathSocket[] = [];
    try {
      const queues = ifQueueCount(name);
      const { maxQueues, xskFrameSize } = this.dataplane.constants;
      refuseTooManyQueues(name, ifindex, queues, maxQueues);
      for (let q = 0; q < queues; q++) {
        const registration = { register: (fd: number) => this.dataplane.registerSocket(slot, q, fd), unregister: () => this.dataplane.unregisterSocket(slot, q) };
        if (queueWorkersFor(queues)) {
          sockets.push(this.queueWorkers.open(name, ifindex, q, zone, xskFrameSize, registration));
          continue;
        }
        const sock = new QueueSocket(name, ifindex, q, zone, xskFrameSize);
        sockets.push(sock);
        registration.register(sock.fd);
      }
      const config = this.nextConfig ?? this.config;
      this.interfaces.push(this.dataplane.attach(name, slot, zone?.id ?? 0, this.xdpMode, previousMode, { flags: this.ifaceFlags(name, config) }));
    } catch (err) {
      for (const s of sockets) {
        this.dataplane.unregisterSocket(slot, s.queue);
        s.close();
      }
      this.dataplane.forgetInterface(ifindex);
      throw err;
    }
    this.sockets.push(...sockets);
    if (this.running) for (const s of sockets) s.start(this.slowPath);
  }

  /** The config a reload is attaching interfaces for (null: none under way). */
  private nextConfig: CompiledConfig | null = null;

  /** enum xdpfw_iface_flags of an interface under `config`: a trunk's flag. */
  private ifaceFlags(name: string, config: CompiledConfig): number {
    return config.trunks.some((t) => t.device === name) ? trunkFlag(this.dataplane.objectPath) : 0;
  }

  /** The VLAN unit maps as `config` wants them, from the attached trunks and the units' internal ends. */
  private vlanUnits(config: CompiledConfig): VlanUnitEntry[] {
    return vlanUnitEntries(config.trunks, (name) => {
      try {
        return ifNameToIndex(name);
      } catch {
        return undefined;
      }
    });
  }

  private vlanMaps(): VlanUnitMaps {
    return { units: this.dataplane.mapFd('xdpfw_vlan_units'), egress: this.dataplane.mapFd('xdpfw_vlan_egress') };
  }

  /** xdpfw_vlan_tx on the internal end of every unit of `config` (bpf/vlan_units.h); returns those ends. */
  private attachUnitsTx(config: CompiledConfig): string[] {
    const internals = unitDevicesOf(config.trunks).map((u) => u.internal);
    for (const name of internals) attachUnitTx(this.dataplane.programFd('xdpfw_vlan_tx'), this.paths.linkPinDir, name, this.xdpMode);
    return internals;
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
    this.lastWarnings = this.interfaces.flatMap((i) => checkLink(i.ifindex, i.mode, ...this.slowPathFrames(i.name)));
    return this.lastWarnings;
  }

  /** The largest frame the slow path takes on an interface, and whether its sockets are all multi-buffer. */
  private slowPathFrames(name: string): [number, boolean] {
    const { slowPathMaxFrame, xskFrameData } = this.dataplane.constants;
    const multiBuffer = this.sockets.every((s) => s.ifname !== name || s.maxPacket >= slowPathMaxFrame);
    return [multiBuffer ? slowPathMaxFrame : xskFrameData, multiBuffer];
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
   * Applies a new config atomically: it is compiled, its interfaces checked,
   * its engines, screens, sinks and session verdicts computed, and its new
   * interfaces attached (sockets, slots, links) before anything the running
   * config uses is switched. The shared maps are then switched entry by entry,
   * each step logged with how to put the old value back; on any failure every
   * step is undone in reverse and the old config runs on as it was. Only
   * after the switch are removed interfaces detached. Sessions are judged
   * again; those the new config no longer permits are closed with reason
   * 'policy change'.
   */
  reload(configPath: string, ignoreUnsupported = false, interfaceMap?: string): ReloadReport {
    const mapPath = interfaceMap ?? this.interfaceMap;
    const result = loadConfigFile(configPath, { ...this.compileOptions, ignoreUnsupported, dnsAnswers: this.dns.answers() }, mapPath);
    if (!result.ok) {
      throw new ConfigRejected(`configuration rejected, the running one stays:\n${result.errors.map((e) => e.toString()).join('\n')}`);
    }
    const next = result.config;
    const missing = missingInterfaces(next);
    if (missing.length) throw new ConfigRejected(`configuration rejected, ${STAYS}:\n${missing.join('\n')}`);
    // Ids first: the engines, screens and session verdicts below are computed with them.
    const identities = this.identities.assign(next, carriedIds(this.sessions.sessions(), this.events.recent()));
    const old = this.config;
    const wanted = new Set(next.interfaces);
    const removed = old.interfaces.filter((n) => !wanted.has(n));
    const added = next.interfaces.filter((n) => !old.interfaces.includes(n));

    const undo = new UndoLog();
    let sinks: EventSink[] = [];
    try {
      // Computed first, nothing shared touched: engines, screen profiles.
      const filters = this.slowPath.nextFilters(next);
      const policies = this.slowPath.nextPolicies(next);
      const screens = encodeScreens(this.dataplane, next);
      const oldScreens = encodeScreens(this.dataplane, old);

      // New interfaces: sockets, slots and links of their own, with the new config's zones.
      this.nextConfig = next;
      undo.push(() => { this.nextConfig = null; });
      // Trunk units' devices first (they are among the new interfaces); a failed reload removes the new ones.
      const oldUnits = unitDevicesOf(old.trunks);
      undo.push(() => {
        const kept = new Set(oldUnits.map((u) => u.internal));
        unpinUnitTx(this.paths.linkPinDir, unitDevicesOf(next.trunks).map((u) => u.internal).filter((n) => !kept.has(n)));
        removeUnitDevices(this.paths.stateDir, new Set(oldUnits.map((u) => u.device)));
      });
      ensureUnitDevices(unitDevicesOf(next.trunks), this.paths.stateDir);
      for (const name of added) {
        try {
          this.attachInterface(name, next.zoneByInterface.get(name) ?? null);
        } catch (err) {
          throw new ConfigRejected(`reload failed, ${STAYS}:\n${attachFailure(next, name, this.xdpMode, err).toString()}`);
        }
        undo.push(() => this.detachInterface(name));
      }

      const zoneByIfindex = new Map<number, Zone>();
      for (const i of this.interfaces) {
        const zone = next.zoneByInterface.get(i.name);
        if (zone) zoneByIfindex.set(i.ifindex, zone);
      }
      const recheck = planRecheck(this.sessions, policies, zoneByIfindex, filters);
      const names = configNameResolver(next, new Map(this.interfaces.filter((i) => wanted.has(i.name)).map((i) => [i.ifindex, i.name])), identities);
      sinks = createSinks(next.syslog, formatContext(next.syslog, names));

      // The switch of what the running programs share, each step undoable.
      for (const i of this.interfaces) {
        if (!wanted.has(i.name) || added.includes(i.name)) continue; // removed ones keep theirs until detached
        const before = old.zoneByInterface.get(i.name) ?? null;
        const after = next.zoneByInterface.get(i.name) ?? null;
        const entry = this.dataplane.interfaceEntry(i.ifindex);
        this.dataplane.setInterfaceZone(i.ifindex, i.slot, after?.id ?? 0, this.ifaceFlags(i.name, next));
        undo.push(() => this.dataplane.restoreInterfaceEntry(i.ifindex, entry));
        for (const s of this.sockets) if (s.ifname === i.name) s.setZone(after);
        undo.push(() => { for (const s of this.sockets) if (s.ifname === i.name) s.setZone(before); });
      }
      this.attachUnitsTx(next);
      const vlanMaps = this.vlanMaps();
      const oldVlanEntries = readVlanUnits(vlanMaps);
      writeVlanUnits(vlanMaps, this.vlanUnits(next));
      undo.push(() => writeVlanUnits(vlanMaps, oldVlanEntries));
      writeScreens(this.dataplane, screens);
      undo.push(() => writeScreens(this.dataplane, oldScreens));
      const oldEthertypes = passedEthertypes(this.dataplane);
      writePassEthertypes(this.dataplane, next.passEthertypes);
      undo.push(() => writePassEthertypes(this.dataplane, oldEthertypes));
      const oldProxies = readNeighborProxies(this.dataplane);
      writeNeighborProxies(this.dataplane, neighborProxyEntries(next.neighborProxies));
      undo.push(() => writeNeighborProxies(this.dataplane, oldProxies));

      // Committed: from here on the new config runs. Live translations keep their allocator.
      this.slowPath.nat?.keepOwners();
      this.slowPath.nat?.configure(sourceNatOf(next));
      undo.clear();
      this.config = next;
      this.nextConfig = null;
      this.interfaceMap = mapPath;
      this.identities = identities;
      try {
        identities.save();
      } catch (err) {
        process.stderr.write(`xdpfw: reload: saving ${this.paths.identitiesFile}: ${(err as Error).message}\n`);
      }
      const oldSinks = this.sinks;
      this.sinks = sinks;
      this.events.setSinks(sinks);
      this.events.setRates(eventRates(next.syslog));
      this.jsonFormat = formatter('json', formatContext(next.syslog, names));
      for (const s of oldSinks) s.close();
      this.sessions.configure(next.flow.timeouts, next.flow.maxSessions);
      this.dataplane.setTcpSettings(next.flow.tcpSession);
      // Before the new policies: no flow the old ones denied stays denied in XDP.
      this.flood?.configure(next.flow.slowPathBudget);
      const previous = this.foldFilterCounters();
      filters.engine.carryCountsFrom(previous);
      this.dataplane.writePolicers(filters.engine.policers(), previous.policers().map((p) => p.index));
      this.slowPath.setConfig(next, zoneByIfindex, filters, policies);
      const rechecked = applyRecheck(this.sessions, recheck);
      this.configureHa(haOf(next.tree));
      for (const name of removed) {
        try {
          this.detachInterface(name);
        } catch (err) {
          process.stderr.write(`xdpfw: reload: detaching ${name}: ${(err as Error).message}\n`);
        }
      }
      try {
        const nextUnits = unitDevicesOf(next.trunks);
        const kept = new Set(nextUnits.map((u) => u.internal));
        unpinUnitTx(this.paths.linkPinDir, unitDevicesOf(old.trunks).map((u) => u.internal).filter((n) => !kept.has(n)));
        removeUnitDevices(this.paths.stateDir, new Set(nextUnits.map((u) => u.device)));
      } catch (err) {
        process.stderr.write(`xdpfw: reload: removing unit devices: ${(err as Error).message}\n`);
      }
      this.saveRuntime();
      // Names the new config adds are looked up now and applied when they answer.
      this.dns.configure(next.dnsNames, next.nameServers);
      return {
        config: next.source,
        interfaces: { added, removed },
        sessions: { kept: rechecked.kept, relabelled: rechecked.relabelled, refiltered: rechecked.refiltered, closed: rechecked.closed.length },
      };
    } catch (err) {
      if (!undo.pending) throw err; // failed after the switch: the new config runs
      for (const s of sinks) s.close();
      const failures = undo.run();
      for (const f of failures) process.stderr.write(`xdpfw: reload: undoing a step failed: ${f.message}\n`);
      if (err instanceof ConfigRejected) throw err;
      throw new Error(`reload failed, ${STAYS}: ${(err as Error).message}`);
    }
  }

  /**
   * New answers for dns-name addresses: the running config's policies compiled with them judge
   * new flows from now on; sessions stay (as on Junos), flows XDP remembers as denied are
   * judged again.
   */
  private applyDnsAnswers(): void {
    const policies = recompilePolicies(this.config, this.dns.answers());
    if (!policies) {
      process.stderr.write('xdpfw: dns-name: the policies did not compile with the new answers; the running ones stay\n');
      return;
    }
    const next = { ...this.config, policies };
    this.slowPath.setPolicies(this.slowPath.nextPolicies(next));
    this.config = next;
    this.flood?.configure(next.flow.slowPathBudget);
  }

  /** reload(), then the metrics endpoint to where the new config puts it (or kept, saying why). */
  private async reloadAndMoveMetrics(configPath: string, ignoreUnsupported: boolean, interfaceMap?: string): Promise<ReloadReport> {
    this.reloadHooks.begin(configPath);
    try {
      const report = this.reload(configPath, ignoreUnsupported, interfaceMap);
      return this.metrics ? { ...report, metrics: await this.metrics.reload(this.config.metrics) } : report;
    } finally {
      this.reloadHooks.end();
    }
  }

  private firewallReport(only?: string): FirewallReport {
    return firewallReport(this.config, this.slowPath.flowFilters.engine, (ix) => this.dataplane.readFilterCounters(ix), only,
      this.slowPath.programs?.report(), (ix) => this.dataplane.readPolicerDrops(ix));
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
    for (const [index, c] of this.dataplane.readPolicerDrops(engine.policers().map((p) => p.index))) engine.addPolicerDrops(index, c.packets, c.bytes);
    return engine;
  }

  /** An attached interface's name and zone, for the drop monitor. */
  private ingressNames(ifindex: number): { interface: string | null; zone: string | null } {
    const name = this.interfaces.find((i) => i.ifindex === ifindex)?.name ?? null;
    return { interface: name, zone: name === null ? null : (this.config.zoneByInterface.get(name)?.name ?? null) };
  }

  private names(): NameResolver {
    return {
      zoneName: (id) => this.config.zones.find((z) => z.id === id)?.name ?? this.identities.zone(id)?.name ?? (id === 0 ? LOCAL_ZONE : `zone-${id}`),
      policyName: (id) => this.config.policies.find((p) => p.id === id)?.name ?? this.identities.policy(id)?.name ??
        (id === 0 ? 'default-policy' : `policy-${id}`),
      logsClose: (id) => this.config.policies.find((p) => p.id === id)?.logClose ?? false,
    };
  }

  /** Sinks, rates and names from the current config; old sinks close after the switch. */
  private configureEvents(): void {
    const names = configNameResolver(this.config, new Map(this.interfaces.map((i) => [i.ifindex, i.name])), this.identities);
    const old = this.sinks;
    this.sinks = createSinks(this.config.syslog, formatContext(this.config.syslog, names));
    this.events.setSinks(this.sinks);
    this.events.setRates(eventRates(this.config.syslog));
    this.xdpBudget?.setRates(eventRates(this.config.syslog));
    this.jsonFormat = formatter('json', formatContext(this.config.syslog, names));
    for (const s of old) s.close();
  }

  /** Runs from a timer: never throws; a session whose expiry fails is tried again. */
  private expire(): void {
    const faults = this.slowPath.faults;
    this.expiryRunner ??= new ExpiryRunner({
      expire: (budget) => this.sessions.expire(budget, (err, s) => faults.record('expiry', err, () => `session ${s.id}`)),
      hasDue: () => this.sessions.hasDue(),
    }, (err) => faults.record('expiry', err, () => 'expiry run'));
    this.expiryRunner.tick();
  }

  private async command(req: ControlRequest): Promise<unknown> {
    switch (req.command) {
      case 'status': return this.status();
      case 'show-sessions': return showSessions(this.sessions, this.queryNames(), req);
      case 'show-counters': return this.counters();
      case 'show-policies': return policiesReport(this.config, this.slowPath.policies);
      case 'show-address-book': return this.dns.report();
      case 'show-nat-proxies': {
        const c = this.dataplane.readCounters();
        const answered = { arp: Number(c.get('PROXY_ARP_ANSWER')?.packets ?? 0n), ndp: Number(c.get('PROXY_NDP_ANSWER')?.packets ?? 0n) };
        return neighborProxyReport(this.config.neighborProxies, answered, req.kind);
      }
      case 'show-config': return { text: req.format === 'set' ? printSet(this.config.tree) : printHierarchical(this.config.tree) };
      case 'match-policies': return matchPolicies(this.slowPath.policies, this.config, req.query);
      case 'trace': return (this.tracer ??= new Tracer(this.dataplane, this.paths, this.sessions, this.slowPath, () => this.config)).trace(req.packet);
      case 'show-firewall': return this.firewallReport(req.filter);
      case 'show-screen-statistics': return screenStatsReport(this.dataplane, this.config, this.slowPath.limiter, req.zone);
      case 'clear-sessions': return clearMatchingSessions(this.sessions, this.queryNames(), req.filter,
        (err, s) => this.slowPath.faults.record('expiry', err, () => `clearing session ${s.id}`));
      case 'show-log': return this.events.recent(req.kinds?.length ? new Set(req.kinds) : undefined).map((ev) => JSON.parse(this.jsonFormat(ev)) as unknown);
      case 'monitor-events':
      case 'monitor-packet-drop': throw new Error(`${req.command} is a stream`);
      case 'reload': {
        const how = { ignoreUnsupported: req.unsupported === 'ignore', ...(req.interfaceMap === undefined ? {} : { interfaceMap: req.interfaceMap }) };
        return this.commitsOrThrow().commit(req.configPath, req.confirmMinutes, (r) => r as ReloadReport, how);
      }
      case 'confirm': return this.commitsOrThrow().confirm();
      case 'rollback': return this.commitsOrThrow().rollback(req.index, (r) => r as ReloadReport);
      case 'show-rollback': return this.commitsOrThrow().list();
      case 'diff': return configDiff(this.config, this.commitsOrThrow().archive, req);
      case 'ha-role': return this.applyRole(req.group, req.role, req.startedTicks);
      case 'show-ha': return this.haStatus().ha ?? this.haRoles.status(haOf(this.config.tree));
      case 'unload':
        // Answer first; the caller waits for the pid to disappear.
        setImmediate(() => void this.stop({ purge: true }));
        return { unloading: true };
    }
  }

  private commitsOrThrow(): Commits {
    if (!this.commits) throw new Error('the daemon is still starting');
    return this.commits;
  }

  private tcpDirFlags: Record<string, number> | null = null;

  /** Names for session listings: interfaces as attached now, filters of the running config. */
  private queryNames(): QueryNames {
    const ifnames = new Map(this.interfaces.map((i) => [i.ifindex, i.name]));
    const filters = new FilterNames(this.config.firewall);
    return {
      interfaceName: (ifindex) => ifnames.get(ifindex) ?? `ifindex-${ifindex}`,
      filterName: (id) => filters.filterName(id),
      termName: (id, term) => filters.termName(id, term),
      tcpDirFlags: (this.tcpDirFlags ??= btfEnum(this.dataplane.objectPath, 'xdpfw_tcp_dir_flags')),
    };
  }

  private metricsSource(): MetricsSource {
    return {
      xdpCounters: () => this.dataplane.readCounters(),
      slowPath: () => this.slowPath.stats,
      controlRequestsRejected: () => this.controlStats.rejected,
      sessions: () => ({ active: this.sessions.size, stats: this.sessions.stats }),
      queues: () => this.sockets.map((s) => s.stats()),
      queueWorkers: () => this.queueWorkers.stats(),
      interfaces: () => this.interfaces.map((i) => ({ name: i.name, mode: i.mode })),
      events: () => this.events.counters(),
      screens: () => screenStatsReport(this.dataplane, this.config, this.slowPath.limiter),
      firewall: () => this.firewallReport(),
      losses: () => this.losses(),
      linkWarnings: () => this.lastWarnings,
      dnsNames: () => this.dns.counters,
      ha: () => this.haStatus().ha ?? null,
      routeWatch: () => this.routeWatch?.stats() ?? null,
      policyHits: () => [...this.slowPath.policies.hitCounts()].map(([id, hits]) => {
        const p = this.config.policies.find((x) => x.id === id);
        return { policy: p?.name ?? 'default-policy', fromZone: p?.fromZone ?? 'global', toZone: p?.toZone ?? 'global', hits };
      }),
    };
  }

  /** The roles keepalived's notify hooks reported (lib/ha/). */
  readonly haRoles = new HaRoles();

  /** Mirroring into the conntrack table and adoption from it (lib/ha/sessions.ts). */
  private haSessions: HaSessions | null = null;
  /** keepalived's transitions as it writes them (lib/ha/notify-fifo.ts). */
  private notifyFifo: NotifyFifo | null = null;

  /** The pair's parts that run while the config has a high-availability stanza. */
  private configureHa(ha: HaConfig | null): void {
    this.haSessions?.configure(ha);
    if (ha && !this.notifyFifo) {
      try {
        this.notifyFifo = new NotifyFifo(notifyFifoPath(this.paths.stateDir), (group, role) => this.applyRole(group, role, ticksNow())).start();
      } catch (err) {
        process.stderr.write(`xdpfw: keepalived's notify FIFO not read (roles come from the notify hooks only): ${(err as Error).message}\n`);
      }
    } else if (!ha) {
      this.notifyFifo?.close();
      this.notifyFifo = null;
    }
  }

  /** A role keepalived reported (FIFO or hook); becoming active adopts the peer's sessions, after the answer. */
  private applyRole(group: number, role: HaRole, startedTicks?: number): ReturnType<HaRoles['report']> {
    const r = this.haRoles.report(group, role, startedTicks);
    if (r.applied && r.role === 'active' && r.previous !== 'active') void this.haSessions?.becameActive();
    return r;
  }

  private haStatus(): { ha?: HaStatus } {
    const ha = this.haRoles.status(haOf(this.config.tree));
    if (this.haSessions && ha.configured) ha.sessions = this.haSessions.status();
    return ha.configured || ha.groups.length ? { ha } : {};
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
      configWarnings: this.config.warnings,
      commit: this.commits?.status(),
      ...this.haStatus(),
    };
  }

  counters(): CountersReport {
    return countersReport(this.dataplane.readCounters(), this.slowPath.stats, this.sessions.stats,
      { counters: this.events.counters(), sinks: this.events.sinkStats() }, this.losses(), this.controlStats, this.dns.counters,
      this.routeWatch?.stats(), this.queueWorkers.stats());
  }

  private losses(): LossesReport {
    const ringFull = Number(this.dataplane.readCounters().get('EVENT_RESERVE_FAIL')?.packets ?? 0n);
    return lossesReport(ringFull, this.bpfEvents?.stats() ?? { undecodable: 0, error: null },
      this.xdpBudget?.suppressed() ?? noneSuppressed(), this.sockets.map((s) => s.stats()), this.dropMonitor?.totals());
  }

  /** Stops serving. With purge, also detaches XDP and removes every pin (unload). */
  stop(opts: { purge: boolean }): Promise<void> {
    this.stopping ??= (async () => {
      this.dns.close();
      if (this.expiryTimer) clearInterval(this.expiryTimer);
      this.expiryRunner?.stop();
      if (this.linkCheckTimer) clearInterval(this.linkCheckTimer);
      this.commits?.close(opts.purge);
      for (const s of this.sockets) s.close();
      this.queueWorkers.stop();
      this.bpfEvents?.close();
      this.dropMonitor?.close();
      this.routeWatch?.close();
      this.haSessions?.close();
      this.notifyFifo?.close();
      this.tracer?.close();
      for (const s of this.sinks) s.close();
      await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
      this.metrics?.close();
      this.dataplane.close();
      if (opts.purge) {
        purgePins(this.paths);
        removeUnitDevices(this.paths.stateDir);
        rmSync(this.paths.runtimeFile, { force: true });
        IdentityRegistry.remove(this.paths.identitiesFile);
      }
      rmSync(this.paths.pidFile, { force: true });
      rmSync(this.paths.socket, { force: true });
      this.markStopped();
    })();
    return this.stopping;
  }
}

function refuseSecondDaemon(paths: StatePaths): void {
  const running = identifyDaemon(paths);
  // A pid file naming anything but a live daemon of this state directory is stale.
  if (running.kind !== 'ours' || running.pid === process.pid) return;
  throw new Error(`an xdpfw daemon (pid ${running.pid}) already runs with state directory ${paths.stateDir}`);
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
