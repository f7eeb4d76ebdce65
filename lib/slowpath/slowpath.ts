// The slow path: judges each packet the fast path could not (first packets,
// a new connection on a closed TCP session, cached rejects) through the firewall filters, the route,
// the zones' policies or host-inbound-traffic and the lo0 filter; installs
// sessions with the filters' verdicts cached for XDP, and re-injects the
// packet through xdpfw_inject_new / xdpfw_inject so it leaves exactly as the
// fast path would send it. Later IP fragments held behind a first fragment
// being judged are never judged themselves: re-injected after it, they follow
// its verdict in XDP.
import { ifIndexToName, ifNameToIndex, progRunInto, progTestRun } from '../dataplane/native.js';
import type { KernelDelivery } from '../dataplane/kernel-path.js';
import { XDP_DROP, XDP_PASS, XDP_REDIRECT } from '../dataplane/xdp-abi.js';
import { FILTER_PROGRAM_SLOW_PATH } from '../dataplane/layout.js';
import type { FilterResult } from '../filter/engine.js';
import type { CompiledConfig, Zone } from '../config/types.js';
import { PolicyEngine, type PolicyDecision, type PolicyQuery } from '../policy/engine.js';
import { JUNOS_HOST_ZONE_ID } from '../config/types.js';
import { hostInboundAllows } from '../policy/host-inbound.js';
import type { FilterLogSource, SecurityEvent } from '../events/types.js';
import { filterLogEvent, policyDenyEvent, sessionCreateEvent, sessionLimitEvent } from '../session/flow-events.js';
import { SessionLimiter } from '../screens/session-limit.js';
import { AF_INET, IPPROTO_TCP, describeKey, familyName } from '../session/flow-key.js';
import { type FirstPacket, INSTALL_BATCH_MAX, type InstallResult, type Session, type SessionFacts, type SessionFilters, type SessionTable, localAdmission } from '../session/table.js';
import { POLICY_REJECT, REJECT_FRAME_MAX, type RejectCounters, type RejectReason, Rejecter } from './reject.js';
import { isClosed, opensSession } from '../session/tcp.js';
import type { FrameReader } from './frame.js';
import { FlowFilters, type SessionKeyFacts } from './flow-filters.js';
import { BoxAddresses } from './box-address.js';
import { FilterPrograms, type ProgramStore } from '../filter/programs.js';
import { type Route, RouteProbe } from './route-probe.js';
import { RouteBatch } from './route-batch.js';
import { BatchStats } from './batch-stats.js';
import { reroute } from './reroute.js';
import { type FaultStage, Faults, frameDigest } from '../util/faults.js';
import type { DeniedFlow } from '../flood/deny-cache.js';
import { IDLE_DROP_TAP, type SlowPathDropTap } from '../monitor/slow-path-tap.js';
import type { NatSessions } from '../nat/nat-sessions.js';
import { translateSource } from '../nat/flow-translation.js';
import { eventNat } from '../nat/event-nat.js';

/** Why the slow path dropped a packet; each has a counter. */
export type SlowPathDrop =
  | 'policy_deny'
  | 'policy_reject'
  | 'tcp_not_syn'
  | 'host_inbound_denied'
  | 'filter_discard'
  | 'filter_reject'
  /** A per-packet filter term chose another routing table than the session's flow was routed by. */
  | 'filter_table_changed'
  | 'no_route'
  | 'no_zone'
  | 'session_limit'
  | 'session_table_full'
  | 'session_map_error'
  | 'bad_metadata'
  | 'inject_failed'
  /** A session's route moved to an interface whose zone pair no policy permits: the session closed. */
  | 'route_change_denied'
  /** A session's tuple from another interface than its direction is bound to (XDP drops these first). */
  | 'session_wrong_interface_slow_path'
  /** Too big for its egress link and not to be fragmented: answered with an ICMP error, not forwarded. */
  | 'mtu_exceeded'
  /**
   * A frame too large to send on in one buffer (jumbo frames) that only the kernel could take on:
   * delivery to the box, an unresolved next hop, an egress without a socket.
   */
  | 'too_big_for_kernel'
  /** An internal error while judging it (by stage in `faults`). */
  | 'slow_path_error'
  /** Source NAT had no address and port left for it (its pool, overflow included, is exhausted). */
  | 'nat_pool_exhausted';

export const LOCAL_ZONE = 'junos-host';

/** A new session's event; one to the box names junos-host as its destination zone. */
function createEvent(s: Session, nat: NatSessions | null): SecurityEvent {
  const ev = sessionCreateEvent(s);
  const translated = eventNat(nat, s.id);
  if (translated) ev.nat = translated;
  return s.local ? { ...ev, egressZone: JUNOS_HOST_ZONE_ID } : ev;
}

/** What a session keeps of its first packet. */
function firstPacket(f: FrameReader['facts']): FirstPacket {
  return { tcpFlags: f.tcpFlags, icmpCode: f.icmpCode, dscp: f.dscp };
}

/** A filter verdict's name for people: filter and term (or the implicit discard at its end). */
export function filterRule(r: FilterResult): string {
  return `${r.filter} term ${r.term ?? '(implicit discard)'}`;
}

/** The residual filter programs the sessions' cached verdicts name. */
function* programsInUse(sessions: SessionTable): Iterable<number> {
  for (const s of sessions.sessions()) {
    for (const dir of [s.filters.client, s.filters.server]) {
      if (dir.input.program !== 0) yield dir.input.program;
      if (dir.output.program !== 0) yield dir.output.program;
    }
  }
}

/**
 * The largest frame the slow path sends on in one buffer (staged for a batch, or handed to the
 * kernel through lib/dataplane/kernel-path.ts). Larger ones are sent by a plain run and the
 * egress socket, or not at all.
 */
export const ONE_BUFFER_MAX_FRAME = 3072;
/** Room for a frame a plain run rewrote: the largest an AF_XDP socket assembles. */
const REWRITE_ROOM = 32768;

const NO_KERNEL_PATH: KernelDelivery = { deliver: () => false, transmit: () => false };

/** An interface's name for NAT rule-sets `from|to interface` ('' when it is gone). */
function interfaceName(ifindex: number): string {
  try {
    return ifIndexToName(ifindex);
  } catch {
    return '';
  }
}

/** An interface's ifindex, or null when it is not on this box (its filters cannot apply). */
function localIfindex(name: string): number | null {
  try {
    return ifNameToIndex(name);
  } catch {
    return null;
  }
}

/** Sends frames out of one interface (an AF_XDP socket bound to it). */
export interface TxPort {
  transmit(frame: Uint8Array, length: number): boolean;
  /**
   * Queues a frame for the next sendStaged() (one kick for all); false: no room, nothing queued.
   * Absent: frames go one by one.
   */
  stage?(frame: Uint8Array, length: number): boolean;
  /** Sends what stage() queued; returns how many of them the tx ring took, in order. */
  sendStaged?(): number;
}

/** A new session's first packet, sent on once the batch's session entries are written. */
interface PendingFirst {
  rx: RxQueue;
  at: number;
  length: number;
  session: Session;
  /** The forwarded route; null: delivered to the box. */
  route: Route | null;
  zoneId: number;
  logs: boolean;
}

/** The frame being judged: a range of its socket's UMEM, named without a view per packet. */
interface FrameRef {
  bytes: Buffer;
  at: number;
  length: number;
}

/** Before the route is known. */
const NO_EGRESS = Object.freeze({ ifindex: 0, zoneId: 0 });
/** To the box itself, as events name it. */
const TO_JUNOS_HOST = Object.freeze({ ifindex: 0, zoneId: JUNOS_HOST_ZONE_ID });

/** The receiving socket of a frame. */
export interface RxQueue {
  ifindex: number;
  queue: number;
  zone: Zone | null;
  reader: FrameReader;
  /** The socket's whole UMEM; a frame is a range of it. */
  frames: Buffer;
  /** Sends a frame out of this interface; false if the tx ring had no room. */
  transmit(frame: Uint8Array, length: number): boolean;
}

export interface SlowPathStats {
  received: number;
  /** Receive batches judged together, by size, and the kernel calls they shared. */
  batches: BatchStats;
  injected: number;
  drops: Map<SlowPathDrop, number>;
  /** Reject replies (RST / ICMP unreachable): built and sent, rate-limited, not due. */
  rejects: RejectCounters;
  /** Replies built but lost to a full AF_XDP tx ring. */
  rejectTxFull: number;
  /** Fragmentation-needed / packet-too-big replies for packets too big for their egress link. */
  tooBig: RejectCounters;
  tooBigTxFull: number;
  /** Internal errors by stage; each frame they hit is dropped, counted once as `slow_path_error`. */
  faults: Faults;
}

export class SlowPath {
  private readonly rejecter = new Rejecter();
  /** Its own rate limit: a reject storm must not silence path MTU discovery, nor the reverse. */
  private readonly tooBigReplier = new Rejecter();
  private readonly boxAddresses = new BoxAddresses();
  readonly stats: SlowPathStats;
  /** Where judging the current frame is, and whether its outcome was counted (a drop or a send). */
  private stage: FaultStage = 'parse';
  private settled = false;
  private readonly replyFrame = new Uint8Array(REJECT_FRAME_MAX);
  /** The frame handle() is judging, and where it came in and goes (handle is never re-entered;
   * events copy what they need). */
  private readonly current: FrameRef = { bytes: Buffer.alloc(0), at: 0, length: 0 };
  /** The first packet finishPending() is sending on. */
  private readonly finishing: FrameRef = { bytes: Buffer.alloc(0), at: 0, length: 0 };
  private readonly ingress = { ifindex: 0, zoneId: 0 };
  /** A first packet as xdpfw_inject_new rewrote it, for the egress socket. */
  private readonly rewritten = Buffer.alloc(REWRITE_ROOM);
  /** Where drops are shown while a packet-drop watcher is attached (set by the daemon). */
  dropTap: SlowPathDropTap = IDLE_DROP_TAP;
  /** The frame handle() was given, as received (for the drop tap). */
  private readonly received = { rx: null as RxQueue | null, addr: 0, length: 0 };
  private readonly rewrittenLength = new Uint32Array(1);
  /** The socket that sends out of an interface (set by the daemon, which owns the sockets). */
  egressPort: (ifindex: number) => TxPort | undefined = () => undefined;
  /** Translated sessions and the source NAT new flows get; null: no NAT. */
  nat: NatSessions | null = null;
  /** New flows refused for want of a translation (pool exhausted). */
  natRefusals = 0;
  /** Told of each refused translation (the daemon logs it). */
  onNatRefused: ((flow: ReturnType<typeof describeKey>, rule: string, pool: string | null, message: string) => void) | null = null;
  /** Where frames go that XDP would have passed to the kernel (set by the daemon: the dataplane's). */
  kernel: KernelDelivery = NO_KERNEL_PATH;
  /** Told of every flow the policy denies (the daemon remembers it in XDP: lib/flood/deny-cache.ts). */
  onDeny: (flow: DeniedFlow) => void = () => undefined;
  private readonly egress = { ifindex: 0, zoneId: 0 };
  /** The policy question being asked (policyQuery). */
  private readonly query: PolicyQuery = {
    fromZone: '', toZone: '', family: 'inet', protocol: 0, source: new Uint8Array(4), destination: new Uint8Array(4),
    sourcePort: 0, destinationPort: 0, icmpType: 0, icmpCode: 0,
  };
  /** The flow whose filter verdicts judgedFlow() asks for. */
  private readonly flowKey: SessionKeyFacts = {
    family: 0, protocol: 0, source: new Uint8Array(4), destination: new Uint8Array(4), sourcePort: 0, destinationPort: 0, icmpType: 0,
  };
  private readonly routes: RouteProbe;
  /** Routes of a batch's first packets, resolved with one call before they are judged. */
  private readonly routeBatch: RouteBatch | null;
  /** Per frame of the batch being judged: its slot in routeBatch, -1 when not asked. */
  private readonly routeSlots = new Int32Array(INSTALL_BATCH_MAX);
  /** The route slot of the frame handle() is judging (-1: look its route up alone). */
  private routeSlot = -1;
  /** First packets judged in this batch, waiting for their session entries to be written. */
  private readonly pending: PendingFirst[] = [];
  /** Sessions of this batch whose SESSION_CREATE is raised once their first packets are sent. */
  private readonly created: Session[] = [];
  /** Egress sockets with frames staged in this batch. */
  private readonly stagedPorts = new Set<TxPort>();
  /** First packets staged on an egress socket, in the order staged. */
  private readonly staged: Array<{ port: TxPort; first: PendingFirst }> = [];
  /** In a batch: sessions are written, and first packets sent, when it ends. */
  private batching = false;
  private engine: PolicyEngine;
  private filters: FlowFilters;
  /** Interned residual filter programs, shared by successive configurations' filters. */
  readonly programs: FilterPrograms | null;
  private zoneByIfindex: Map<number, Zone>;
  /** `limit-session` screens: active sessions per source and destination address. */
  readonly limiter: SessionLimiter;
  /** `security flow tcp-session`. */
  private tcpSession: CompiledConfig['flow']['tcpSession'];

  constructor(
    private readonly progs: { inject: number; injectNew: number; route: number; routeBatch?: number },
    private readonly sessions: SessionTable,
    config: CompiledConfig,
    zoneByIfindex: Map<number, Zone>,
    /** Where security events go (the bounded producer). */
    private readonly emit: (ev: SecurityEvent) => void,
    readonly faults: Faults = new Faults(),
    /** Where residual filter programs go (the XDP map); none: flows with per-packet terms are judged here. */
    programStore: ProgramStore | null = null,
  ) {
    this.programs = programStore ? new FilterPrograms(programStore, () => programsInUse(sessions)) : null;
    this.stats = { received: 0, batches: new BatchStats(), injected: 0, drops: new Map(), rejects: this.rejecter.counters, rejectTxFull: 0,
      tooBig: this.tooBigReplier.counters, tooBigTxFull: 0, faults };
    this.engine = new PolicyEngine(config);
    this.routes = new RouteProbe(progs.route);
    this.routeBatch = progs.routeBatch === undefined ? null : new RouteBatch(progs.routeBatch);
    this.filters = new FlowFilters(config, localIfindex, this.programs);
    this.zoneByIfindex = zoneByIfindex;
    this.limiter = new SessionLimiter(config);
    this.tcpSession = config.flow.tcpSession;
    // Every session the table ends, however it ends, gives its place back.
    sessions.onClose((s) => this.limiter.release(s.fromZoneId, s.key));
  }

  /** Counts the sessions a restarted daemon found in the pinned map. */
  restoreLimits(): void {
    for (const s of this.sessions.sessions()) this.limiter.restore(s.fromZoneId, s.key);
  }

  /** Zones by the ifindex of their attached interfaces, as the running config has them. */
  get zones(): ReadonlyMap<number, Zone> {
    return this.zoneByIfindex;
  }

  get policies(): PolicyEngine {
    return this.engine;
  }

  get flowFilters(): FlowFilters {
    return this.filters;
  }

  /** The next configuration's filters, built by the caller so it can carry counts and re-judge sessions first. */
  nextFilters(config: CompiledConfig): FlowFilters {
    return new FlowFilters(config, localIfindex, this.programs);
  }

  /** The next configuration's policies, built before the switch (a reload re-judges sessions with them first). */
  nextPolicies(config: CompiledConfig): PolicyEngine {
    return new PolicyEngine(config);
  }

  /** Other policies for the same configuration (its dns-name addresses resolved anew): new flows are judged by them, sessions stay. */
  setPolicies(policies: PolicyEngine): void {
    const previous = this.engine;
    this.engine = policies;
    this.engine.carryHitsFrom(previous);
  }

  setConfig(config: CompiledConfig, zoneByIfindex: Map<number, Zone>, filters: FlowFilters, policies = this.nextPolicies(config)): void {
    const previous = this.engine;
    this.engine = policies;
    this.engine.carryHitsFrom(previous);
    this.filters = filters;
    this.zoneByIfindex = zoneByIfindex;
    this.limiter.configure(config);
    this.tcpSession = config.flow.tcpSession;
  }

  /** rule: the policy or filter term that decided, for a packet-drop watcher. */
  private drop(reason: SlowPathDrop, rule: string | null = null): void {
    this.stats.drops.set(reason, (this.stats.drops.get(reason) ?? 0) + 1);
    this.settled = true;
    if (this.dropTap.active) this.showDrop(reason, rule);
  }

  private showDrop(reason: SlowPathDrop, rule: string | null): void {
    const { rx, addr, length } = this.received;
    if (rx) this.dropTap.note(rx.frames.subarray(addr, addr + length), length, rx.ifindex, this.stage, reason, rule);
  }

  private sent(): void {
    this.stats.injected++;
    this.settled = true;
  }

  /**
   * Judges one frame (umem offset `addr`, `length` bytes). Never throws: a frame that makes any
   * stage fail is dropped (unless it was already sent or dropped), counted and reported.
   */
  handle(rx: RxQueue, addr: number, length: number): void {
    this.stats.received++;
    this.received.rx = rx;
    this.received.addr = addr;
    this.received.length = length;
    this.stage = 'parse';
    this.settled = false;
    try {
      this.judge(rx, addr, length);
    } catch (err) {
      if (!this.settled) this.drop('slow_path_error');
      this.faults.record(this.stage, err, () => frameDigest(rx.frames, addr, length, rx.ifindex, rx.queue));
    }
  }

  /**
   * Judges a batch of frames of one socket (descs: [offset, length] pairs) with one kernel call
   * per kind of work: one route lookup for all their first packets, one map update for all the
   * sessions they open, one send per egress socket. Each frame is still judged alone by handle().
   */
  handleBatch(rx: RxQueue, descs: Uint32Array, n: number): void {
    this.stats.batches.record(n);
    this.stats.batches.recordWake((Number(process.hrtime.bigint()) - rx.reader.sentUpNs(descs[0]!)) / 1e3);
    this.batching = true;
    this.sessions.beginBatch();
    try {
      this.prefetchRoutes(rx, descs, n);
      for (let i = 0; i < n; i++) {
        this.routeSlot = this.routeSlots[i]!;
        this.handle(rx, descs[2 * i]!, descs[2 * i + 1]!);
      }
    } finally {
      this.routeSlot = -1;
      this.batching = false;
      this.finishPending();
    }
  }

  /**
   * Asks the routes of the batch's frames that may be first packets, in the main table, with one
   * run. A frame whose input filter sends it to another routing table is looked up alone once
   * judged (so are the frames of a failed run).
   */
  private prefetchRoutes(rx: RxQueue, descs: Uint32Array, n: number): void {
    const batch = this.routeBatch;
    this.routeSlots.fill(-1, 0, n);
    if (!batch || !rx.zone) return;
    batch.clear();
    const reader = rx.reader;
    try {
      for (let i = 0; i < n && i < this.routeSlots.length && !batch.full; i++) {
        const at = descs[2 * i]!;
        if (!reader.read(at, descs[2 * i + 1]!)) continue;
        const f = reader.facts;
        if (f.mtu !== 0 || f.laterFragment) continue;
        const tos = f.family === AF_INET ? rx.frames[at + f.l3Offset + 1]! : 0;
        this.routeSlots[i] = batch.add(reader.key, 0, tos);
      }
      const runs = batch.stats.runs;
      batch.resolve(rx.ifindex, rx.queue);
      this.stats.batches.routeRuns += batch.stats.runs - runs;
    } catch (err) {
      this.routeSlots.fill(-1, 0, n);
      this.faults.record('route', err, () => `route batch of ${n} frames on ifindex ${rx.ifindex} queue ${rx.queue}`);
    }
  }

  /**
   * Writes the sessions the batch installed (one map update), then sends their first packets on
   * (staged per egress socket, one send each) and raises their events. A session the map refused
   * is dropped with its packet, counted by its reason.
   */
  private finishPending(): void {
    if (this.pending.length === 0) {
      this.sessions.commitBatch();
      if (this.batching) this.sessions.beginBatch();
      return;
    }
    const stage = this.stage;
    const settled = this.settled;
    // Built only when the map refused some (rare): a batch that went in allocates none.
    let refused: Map<Session, InstallResult & { ok: false }> | null = null;
    try {
      const refusals = this.sessions.commitBatch();
      if (refusals.length > 0) refused = new Map(refusals.map((r) => [r.session, { ok: false, reason: r.reason }]));
      this.stats.batches.installWrites++;
    } catch (err) {
      this.faults.record('install', err, () => `session batch of ${this.pending.length}`);
    }
    const frame = this.finishing;
    for (const p of this.pending) {
      frame.bytes = p.rx.frames;
      frame.at = p.at;
      frame.length = p.length;
      try {
        const no = refused?.get(p.session);
        if (no) {
          this.nat?.release(p.session.id);
          this.limiter.release(p.zoneId, p.session.key);
          this.drop(no.reason);
          continue;
        }
        this.stage = 'inject';
        if (p.route) this.forwardFirst(p.rx, frame, p.route, p);
        else this.inject(p.rx, frame, this.progs.injectNew);
        if (p.logs) this.created.push(p.session);
      } catch (err) {
        this.faults.record(this.stage, err, () => frameDigest(p.rx.frames, p.at, p.length, p.rx.ifindex, p.rx.queue));
      }
    }
    this.sendStaged(frame);
    // The packets are out: what only people read comes after them.
    this.stage = 'event';
    for (const session of this.created) {
      try {
        this.emit(createEvent(session, this.nat));
      } catch (err) {
        this.faults.record('event', err, () => `session ${session.id}`);
      }
    }
    this.created.length = 0;
    this.pending.length = 0;
    this.staged.length = 0;
    this.stage = stage;
    this.settled = settled;
    if (this.batching) this.sessions.beginBatch();
  }

  /**
   * One send per egress socket for the first packets staged on it; those its tx ring had no room
   * for go one by one (inject).
   */
  private sendStaged(frame: FrameRef): void {
    for (const port of this.stagedPorts) {
      let sent = 0;
      try {
        sent = port.sendStaged!();
      } catch (err) {
        this.faults.record('inject', err, () => 'staged first packets');
      }
      let index = 0;
      for (const p of this.staged) {
        if (p.port !== port) continue;
        if (index++ < sent) {
          this.sent();
          continue;
        }
        frame.bytes = p.first.rx.frames;
        frame.at = p.first.at;
        frame.length = p.first.length;
        this.inject(p.first.rx, frame, this.progs.injectNew, p.first.route?.egress ?? 0);
      }
    }
    this.stagedPorts.clear();
  }

  private judge(rx: RxQueue, addr: number, length: number): void {
    const reader = rx.reader;
    if (!reader.read(addr, length)) return this.drop('bad_metadata');
    const facts = reader.facts;
    const frame = this.current;
    frame.bytes = rx.frames;
    frame.at = addr;
    frame.length = length;
    if (facts.mtu !== 0) return this.answerTooBig(rx, frame);
    // Held behind its first fragment, which this socket's frames brought first: XDP follows it.
    if (facts.laterFragment) {
      this.finishPending();
      return this.inject(rx, frame, this.progs.inject);
    }

    const known = this.sessions.lookup(reader.key);
    // A packet of a session this batch installs goes after that session's first packet.
    if (known && this.pending.length > 0 && this.sessions.pendingInBatch(known)) this.finishPending();
    if (known && !this.reopens(known, facts.tcpFlags)) return this.continueSession(rx, frame, known);

    const family = familyName(facts.family);
    const fromZone = rx.zone;
    const ingress = this.ingress;
    ingress.ifindex = rx.ifindex;
    ingress.zoneId = fromZone?.id ?? 0;
    // Junos order: the input filter sees every packet the interface receives, before flow.
    this.stage = 'filter';
    const input = this.filters.judge(this.filters.input(rx.ifindex, family), reader);
    if (input) {
      const source = input.routingInstance === null ? 'input' : 'pbr';
      if (!this.enforceFilter(rx, frame, input, source, ingress, NO_EGRESS)) return;
    }

    if (!fromZone) return this.drop('no_zone');
    this.stage = 'route';
    const table = input?.routingInstance ?? 0;
    const route = this.routeSlot >= 0 && table === 0
      ? this.routeBatch!.route(this.routeSlot)
      : this.routes.lookup(frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, table);
    if (route.local && route.boxConnection) return this.toLocal(rx, frame, fromZone, true);
    // syn-check (XDP refuses most before they come here; a race with a session's end may not).
    if (facts.protocol === IPPROTO_TCP && !opensSession(facts.tcpFlags) && !this.tcpSession.noSynCheck) return this.drop('tcp_not_syn');
    if (route.local) return this.toLocal(rx, frame, fromZone, false);
    if (route.egress === 0) return this.drop('no_route');
    const toZone = this.zoneByIfindex.get(route.egress);
    if (!toZone) return this.drop('no_zone');
    const egress = this.egress;
    egress.ifindex = route.egress;
    egress.zoneId = toZone.id;

    this.stage = 'policy';
    const decision = this.engine.match(this.policyQuery(fromZone, toZone.name, reader));
    const logs = decision.policy?.logInit ?? false;
    if (decision.action !== 'permit') {
      this.stage = 'event';
      if (logs) this.emit(policyDenyEvent(describeKey(reader.key), facts.icmpType, ingress, egress, decision.action, decision.policyId));
      if (decision.action === 'reject') this.reject(rx, frame, POLICY_REJECT);
      // Repeats dropped in XDP would skip the input filter: not where it counts or logs them.
      else if (!input || (!input.log && !input.syslog && input.counter === null)) {
        this.onDeny({ key: reader.key, ingressIfindex: rx.ifindex, egressIfindex: egress.ifindex, fromZoneId: fromZone.id,
          toZoneId: toZone.id, policyId: decision.policyId, log: logs });
      }
      return this.drop(decision.action === 'reject' ? 'policy_reject' : 'policy_deny', decision.policyName);
    }

    this.stage = 'filter';
    const output = this.filters.judge(this.filters.output(route.egress, family), reader);
    if (output && !this.enforceFilter(rx, frame, output, 'output', ingress, egress)) return;

    // Junos order: source NAT after policy and route.
    const nat = this.nat?.sourceNat?.active ? this.translate(rx, fromZone, toZone, route.egress) : null;
    if (nat === false) return;
    const first = firstPacket(facts);
    const natId = this.sessions.nextSessionId;
    if (nat) this.sessions.markTranslated(natId);
    const session = this.install(rx, fromZone, {
      fromZone: fromZone.name, fromZoneId: fromZone.id,
      toZone: toZone.name, toZoneId: toZone.id,
      policyId: decision.policyId, policyName: decision.policyName,
      ingressIfindex: rx.ifindex, egressIfindex: route.egress, local: false, boxConnection: false,
      logClose: decision.policy?.logClose ?? false, icmpType: facts.icmpType, inactivityTimeout: decision.inactivityTimeout,
      first, filters: this.judgedFlow(reader, first, rx.ifindex, route.egress, false),
    });
    if (nat && !session) this.nat!.release(natId);
    if (!session) return;
    if (this.batching) return this.defer(rx, frame, session, route, fromZone.id, logs);
    this.stage = 'inject';
    this.forwardFirst(rx, frame, route);
    this.stage = 'event';
    if (logs) this.emit(createEvent(session, this.nat));
  }

  /**
   * Source NAT of the flow the reader holds: its translation's entries written for the session
   * about to be installed (the table's next id), true; nothing to translate, null; refused
   * (dropped, counted, logged), false.
   */
  private translate(rx: RxQueue, fromZone: Zone, toZone: Zone, egressIfindex: number): boolean | null {
    this.stage = 'nat';
    const nat = this.nat!;
    const reader = rx.reader;
    const result = translateSource(nat.sourceNat!, reader.key,
      { interface: interfaceName(rx.ifindex), zone: fromZone.name, routingInstance: 'default' },
      { interface: interfaceName(egressIfindex), zone: toZone.name, routingInstance: 'default' },
      () => this.boxAddresses.source(egressIfindex, reader.destinationAddress()));
    if (result.kind === 'untranslated') return null;
    if (result.kind === 'refused') {
      this.natRefusals++;
      this.onNatRefused?.(describeKey(reader.key), result.rule, result.pool, result.message);
      this.drop('nat_pool_exhausted', result.rule);
      return false;
    }
    nat.write(this.sessions.nextSessionId, result.session);
    return true;
  }

  /** Sends the first packet on when the batch's sessions are written (finishBatch). */
  private defer(rx: RxQueue, frame: FrameRef, session: Session, route: Route | null, zoneId: number, logs: boolean): void {
    this.pending.push({ rx, at: frame.at, length: frame.length, session, route, zoneId, logs });
    this.settled = true;
  }

  /**
   * Enforces a filter's verdict on the packet in hand: counts were taken by the judge; logs
   * (with the action taken), answers a reject. false: the packet is gone.
   */
  private enforceFilter(
    rx: RxQueue, frame: FrameRef, result: FilterResult, source: FilterLogSource,
    ingress: { ifindex: number; zoneId: number }, egress: { ifindex: number; zoneId: number }, sessionId = 0,
  ): boolean {
    if (result.log || result.syslog) {
      this.stage = 'event';
      this.emit(filterLogEvent(describeKey(rx.reader.key), rx.reader.facts.icmpType, ingress, egress, result, source, sessionId));
    }
    if (result.action === 'accept') return true;
    if (result.action === 'reject') {
      this.reject(rx, frame, result.rejectReason ?? POLICY_REJECT);
      this.drop('filter_reject', filterRule(result));
    } else {
      this.drop('filter_discard', filterRule(result));
    }
    return false;
  }

  /** The verdicts of both directions of the flow the reader holds, as the session caches them. */
  private judgedFlow(reader: FrameReader, first: FirstPacket, ingress: number, egress: number, local: boolean): SessionFilters {
    const f = reader.facts;
    const key = this.flowKey;
    key.family = f.family;
    key.protocol = f.protocol;
    key.source = reader.sourceAddress();
    key.destination = reader.destinationAddress();
    key.sourcePort = f.sourcePort;
    key.destinationPort = f.destinationPort;
    key.icmpType = f.icmpType;
    return this.filters.sessionFilters(key, first, ingress, egress, local);
  }

  /** Answers the source (RST or ICMP unreachable) through the socket the packet came in on. */
  private reject(rx: RxQueue, frame: FrameRef, reason: RejectReason): void {
    this.stage = 'reject';
    const f = rx.reader.facts;
    const view = frame.bytes.subarray(frame.at, frame.at + frame.length);
    const n = this.rejecter.reply(view, f.l3Offset, f.family, f.protocol, this.replyFrame, reason);
    if (n > 0 && !rx.transmit(this.replyFrame, n)) this.stats.rejectTxFull++;
  }

  /**
   * A packet of a session, too big for its egress link, that may not be fragmented on the way
   * (XDP judged it and did not forward it): the source learns the MTU as from a router, from the
   * box's address on the interface the packet came in on.
   */
  private answerTooBig(rx: RxQueue, frame: FrameRef): void {
    this.stage = 'reject';
    const reader = rx.reader;
    const f = reader.facts;
    const view = frame.bytes.subarray(frame.at, frame.at + frame.length);
    const source = this.boxAddresses.source(rx.ifindex, reader.sourceAddress());
    const n = this.tooBigReplier.tooBig(view, f.l3Offset, f.family, f.protocol, this.replyFrame, f.mtu, source);
    if (n > 0 && !rx.transmit(this.replyFrame, n)) this.stats.tooBigTxFull++;
    this.drop('mtu_exceeded');
  }

  /**
   * To the box itself: the lo0 filter, after the zone's host-inbound-traffic for a service of
   * the box; replies to connections the box opened need no service.
   */
  private toLocal(rx: RxQueue, frame: FrameRef, zone: Zone, boxConnection: boolean): void {
    const reader = rx.reader;
    const f = reader.facts;
    this.stage = 'filter';
    if (!boxConnection && !hostInboundAllows(zone, f.protocol, f.destinationPort, f.icmpType)) {
      return this.drop('host_inbound_denied', `host-inbound-traffic of zone ${zone.name}`);
    }
    const ingress = { ifindex: rx.ifindex, zoneId: zone.id };
    // Junos: policies `to-zone junos-host` judge what host-inbound-traffic admitted; none matching leaves it admitted.
    const decision = boxConnection ? null : this.judgeHost(zone, reader);
    if (decision && decision.action !== 'permit') {
      this.stage = 'event';
      if (decision.policy?.logInit) this.emit(policyDenyEvent(describeKey(reader.key), f.icmpType, ingress, TO_JUNOS_HOST, decision.action, decision.policyId));
      if (decision.action === 'reject') this.reject(rx, frame, POLICY_REJECT);
      return this.drop(decision.action === 'reject' ? 'policy_reject' : 'policy_deny', decision.policyName);
    }
    const lo0 = this.filters.judge(this.filters.lo0Filter(familyName(f.family)), reader);
    if (lo0 && !this.enforceFilter(rx, frame, lo0, 'lo0', ingress, NO_EGRESS)) return;
    const first = firstPacket(f);
    const session = this.install(rx, zone, {
      fromZone: zone.name, fromZoneId: zone.id, toZone: LOCAL_ZONE, toZoneId: 0,
      policyId: decision?.policyId ?? 0, policyName: decision?.policyName ?? localAdmission(boxConnection),
      ingressIfindex: rx.ifindex, egressIfindex: 0, local: true, boxConnection, logClose: false, icmpType: f.icmpType,
      inactivityTimeout: decision?.inactivityTimeout ?? null,
      first, filters: this.judgedFlow(reader, first, rx.ifindex, 0, true),
    });
    if (!session) return;
    const logs = decision?.policy?.logInit ?? false;
    if (this.batching) return this.defer(rx, frame, session, null, zone.id, logs);
    this.inject(rx, frame, this.progs.injectNew);
    this.stage = 'event';
    if (logs) this.emit(createEvent(session, this.nat));
  }

  /** The `to-zone junos-host` policy deciding a flow to the box, or null when none does. */
  private judgeHost(zone: Zone, reader: FrameReader): PolicyDecision | null {
    this.stage = 'policy';
    return this.engine.matchHost(this.policyQuery(zone, LOCAL_ZONE, reader));
  }

  /** The policy question of the frame the reader holds, in one reused query (the engines keep none of it). */
  private policyQuery(from: Zone, toZone: string, reader: FrameReader): PolicyQuery {
    const q = this.query;
    q.fromZone = from.name;
    q.toZone = toZone;
    reader.flowInto(q);
    return q;
  }

  /**
   * Installs the session of the frame the reader holds, past the zone's `limit-session` screen;
   * a place the screen gave is given back unless the session is installed, whatever fails.
   * null: refused, the drop counted.
   */
  private install(rx: RxQueue, zone: Zone, facts: SessionFacts): Session | null {
    this.stage = 'install';
    const key = rx.reader.key;
    const hit = this.limiter.admit(zone.id, key);
    const admitted = hit === null || hit.action !== 'drop';
    let installed: InstallResult | null = null;
    try {
      if (hit !== null) {
        this.stage = 'event';
        this.emit(sessionLimitEvent(describeKey(key), rx.reader.facts.icmpType, { ifindex: rx.ifindex, zoneId: zone.id }, hit));
        this.stage = 'install';
      }
      if (!admitted) {
        this.drop('session_limit');
        return null;
      }
      installed = this.sessions.install(key, facts, rx.reader.facts.protocol);
    } finally {
      if (admitted && !installed?.ok) this.limiter.release(zone.id, key);
    }
    if (installed.ok) return installed.session;
    this.drop(installed.reason);
    return null;
  }

  /**
   * A SYN on a TCP session XDP has closed (time-wait, or after a RST) opens a new connection:
   * the old session ends now (as conntrack does) and the SYN is judged like any first packet.
   */
  private reopens(session: Session, tcpFlags: number): boolean {
    if (!session.tcp || !opensSession(tcpFlags)) return false;
    this.stage = 'session';
    const end = this.sessions.endOf(session);
    if (!end?.reason || !isClosed(end.state)) return false;
    this.sessions.close(session, end.reason);
    return true;
  }

  /**
   * A packet of a known session that the fast path sent up: a cached reject to answer, or one
   * that raced with the session's installation (queued behind its first packet).
   */
  private continueSession(rx: RxQueue, frame: FrameRef, session: Session): void {
    this.stage = 'session';
    const fromServer = !rx.reader.key.equals(session.key);
    if (rx.ifindex !== (fromServer ? session.egressIfindex : session.ingressIfindex)) return this.drop('session_wrong_interface_slow_path');
    if (!this.followRoute(rx, frame, session, fromServer)) return;
    this.stage = 'session';
    const dir = fromServer ? session.filters.server : session.filters.client;
    // Filter terms too many for XDP: judged here, packet by packet, and sent on without a replay.
    const judgedHere = dir.input.program >= FILTER_PROGRAM_SLOW_PATH || dir.output.program >= FILTER_PROGRAM_SLOW_PATH;
    if (judgedHere ? !this.judgeSessionPacket(rx, frame, session, fromServer) : !this.replayRejects(rx, frame, session, fromServer)) return;
    const prog = judgedHere ? this.progs.injectNew : this.progs.inject;
    // A jumbo frame goes on through the egress socket or not at all.
    if (frame.length > ONE_BUFFER_MAX_FRAME) {
      const egress = this.jumboEgress(rx, frame, session, fromServer);
      if (egress === undefined) return this.drop('too_big_for_kernel');
      this.sendRewritten(rx, frame, prog, egress);
      return;
    }
    // The route was just found unchanged: it leaves where the session was set up to.
    this.inject(rx, frame, prog, session.local ? 0 : fromServer ? session.ingressIfindex : session.egressIfindex);
  }

  /**
   * Where this packet's route leaves now: another interface than the session was judged for
   * is another zone pair, judged again before the packet goes on. false: the session closed.
   */
  private followRoute(rx: RxQueue, frame: FrameRef, session: Session, fromServer: boolean): boolean {
    if (session.local) return true;
    this.stage = 'route';
    const table = (fromServer ? session.filters.server : session.filters.client).input.tableId;
    const route = this.routes.lookup(frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, table);
    if (route.local) return true; // XDP drops it (no route for a forwarded session)
    this.stage = 'policy';
    const outcome = reroute(session, fromServer, route.egress, this.sessions, this.engine, this.zoneByIfindex, this.filters);
    if (outcome !== 'closed') return true;
    this.drop('route_change_denied');
    return false;
  }

  /**
   * XDP replays cached accepts and discards itself; a cached reject needs an answer, so it is
   * enforced here, counted and logged as XDP would. false: the packet was rejected.
   */
  private replayRejects(rx: RxQueue, frame: FrameRef, session: Session, fromServer: boolean): boolean {
    const dir = fromServer ? session.filters.server : session.filters.client;
    const reader = rx.reader;
    // This packet's verdicts: the cached ones, or its own where per-packet terms apply.
    const onInput = this.filters.packetVerdict(dir.input, reader, false)?.action === 'reject';
    if (!onInput && this.filters.packetVerdict(dir.output, reader, false)?.action !== 'reject') return true;
    const d = onInput ? dir.input : dir.output;
    // A reload removed it (the new verdicts are being written): XDP decides.
    const result = this.filters.packetVerdict(d, reader, true);
    if (!result) return true;
    const [near, far] = fromServer ? [session.toZoneId, session.fromZoneId] : [session.fromZoneId, session.toZoneId];
    const ingress = { ifindex: rx.ifindex, zoneId: near };
    if (onInput) return this.enforceFilter(rx, frame, result, 'cached-input', ingress, NO_EGRESS, session.id);
    const egress = { ifindex: fromServer ? session.ingressIfindex : session.egressIfindex, zoneId: far };
    return this.enforceFilter(rx, frame, result, session.local ? 'cached-lo0' : 'cached-output', ingress, egress, session.id);
  }

  /**
   * A packet of a session whose filter terms XDP cannot run (too many per-packet terms): both
   * of its direction's filters judge it here, counting and logging as XDP would. false: the
   * packet is gone.
   */
  private judgeSessionPacket(rx: RxQueue, frame: FrameRef, session: Session, fromServer: boolean): boolean {
    const dir = fromServer ? session.filters.server : session.filters.client;
    const [near, far] = fromServer ? [session.toZoneId, session.fromZoneId] : [session.fromZoneId, session.toZoneId];
    const ingress = { ifindex: rx.ifindex, zoneId: near };
    if (dir.input.filterId !== 0) {
      const input = this.filters.packetVerdict(dir.input, rx.reader, true);
      // A filter the running configuration lacks: nothing here can judge the packet.
      if (!input) {
        this.drop('filter_discard');
        return false;
      }
      // Another routing table could send it out of another interface, past another policy.
      if (input.action === 'accept' && (input.routingInstance ?? 0) !== dir.input.tableId) {
        this.drop('filter_table_changed');
        return false;
      }
      if (!this.enforceFilter(rx, frame, input, 'cached-input', ingress, NO_EGRESS, session.id)) return false;
    }
    if (dir.output.filterId === 0) return true;
    const output = this.filters.packetVerdict(dir.output, rx.reader, true);
    if (!output) {
      this.drop('filter_discard');
      return false;
    }
    const egress = { ifindex: fromServer ? session.ingressIfindex : session.egressIfindex, zoneId: far };
    return this.enforceFilter(rx, frame, output, session.local ? 'cached-lo0' : 'cached-output', ingress, egress, session.id);
  }

  /**
   * Sends a new forwarded session's first packet on. The cheap way, when the next hop is known
   * and the egress has a socket: xdpfw_inject_new in a plain run rewrites it exactly as the fast
   * path would (and counts it), and the egress's AF_XDP socket sends the result. Otherwise, or
   * if the program did not redirect, inject() settles it (the kernel's socket or receive path).
   */
  private forwardFirst(rx: RxQueue, frame: FrameRef, route: Route, pending?: PendingFirst): void {
    const port = route.resolved ? this.egressPort(route.egress) : undefined;
    if (port && pending && port.stage && this.stageRewritten(rx, frame, port, pending)) return;
    if (port && this.sendRewritten(rx, frame, this.progs.injectNew, port)) return;
    // Rare (tx ring full, an expiring TTL, no socket of ours): the second run counts this packet a second time.
    this.inject(rx, frame, this.progs.injectNew, route.egress);
  }

  /**
   * Runs `prog` plain on the frame and sends what it rewrote from `port`, the egress socket.
   * true: settled (sent, or dropped by the program, which counted it); false: the kernel must
   * take it (inject), or for a jumbo frame nobody can, counted here.
   */
  private sendRewritten(rx: RxQueue, frame: FrameRef, prog: number, port: TxPort): boolean {
    this.stage = 'inject';
    const out = progTestRun(prog, {
      data: frame.bytes, offset: frame.at, length: frame.length, ifindex: rx.ifindex, rxQueue: rx.queue, into: this.rewritten,
    });
    if (out.retval === XDP_DROP) {
      this.settled = true; // counted by the program
      return true;
    }
    if (out.retval === XDP_REDIRECT && port.transmit(this.rewritten, out.dataOutLength ?? 0)) {
      this.sent();
      return true;
    }
    if (frame.length <= ONE_BUFFER_MAX_FRAME) return false;
    this.drop('too_big_for_kernel');
    return true;
  }

  /**
   * Runs xdpfw_inject_new plain on a first packet and stages what it rewrote on `port`, the egress
   * socket, sent with the rest of the batch (sent alone, or by inject(), when it cannot be).
   * false: a jumbo frame, for sendRewritten.
   */
  private stageRewritten(rx: RxQueue, frame: FrameRef, port: TxPort, first: PendingFirst): boolean {
    if (frame.length > ONE_BUFFER_MAX_FRAME) return false;
    const retval = progRunInto(this.progs.injectNew, frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, this.rewritten, this.rewrittenLength);
    const length = this.rewrittenLength[0]!;
    if (retval === XDP_DROP) return true; // counted by the program
    if (retval === XDP_REDIRECT) {
      if (port.stage!(this.rewritten, length)) {
        this.stagedPorts.add(port);
        this.staged.push({ port, first });
        return true;
      }
      if (port.transmit(this.rewritten, length)) {
        this.sent();
        return true;
      }
    }
    // Rare (tx ring full, an expiring TTL): the second run counts this packet a second time.
    this.inject(rx, frame, this.progs.injectNew, first.route?.egress ?? 0);
    return true;
  }

  /**
   * The socket a jumbo frame of an established session leaves by: where its route goes now, if
   * that is the interface the session was set up for this direction, with the next hop known.
   */
  private jumboEgress(rx: RxQueue, frame: FrameRef, session: Session, fromServer: boolean): TxPort | undefined {
    if (session.local) return undefined;
    const table = (fromServer ? session.filters.server : session.filters.client).input.tableId;
    const route = this.routes.lookup(frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, table);
    const expected = fromServer ? session.ingressIfindex : session.egressIfindex;
    if (route.local || !route.resolved || route.egress !== expected) return undefined;
    return this.egressPort(route.egress);
  }

  /**
   * Sends the frame on through `prog`, run plain: dropped there (counted by the program), handed
   * to the kernel as just received on its interface (XDP_PASS: local delivery, neighbour
   * resolution, expiring TTLs, VLAN sub-interfaces), or forwarded out of `egress` (an ifindex;
   * 0: the frame's route in the main table), by its socket or else by the kernel's.
   */
  private inject(rx: RxQueue, frame: FrameRef, prog: number, egress = 0): void {
    this.stage = 'inject';
    if (frame.length > ONE_BUFFER_MAX_FRAME) return this.drop('too_big_for_kernel');
    const retval = progRunInto(prog, frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, this.rewritten, this.rewrittenLength);
    const length = this.rewrittenLength[0]!;
    if (retval === XDP_DROP) {
      this.settled = true; // counted by the program
      return;
    }
    if (retval === XDP_PASS) {
      if (this.kernel.deliver(rx.ifindex, this.rewritten, length)) return this.sent();
      return this.drop('inject_failed');
    }
    if (retval === XDP_REDIRECT) {
      const out = egress || this.routedEgress(rx, frame);
      if (out && (this.egressPort(out)?.transmit(this.rewritten, length) || this.kernel.transmit(out, this.rewritten, length))) return this.sent();
      return this.drop('inject_failed');
    }
    this.drop('inject_failed');
  }

  /** The egress of the frame's route in the main table (0: none), for a forwarded frame whose session is not at hand. */
  private routedEgress(rx: RxQueue, frame: FrameRef): number {
    const route = this.routes.lookup(frame.bytes, frame.at, frame.length, rx.ifindex, rx.queue, 0);
    return route.local ? 0 : route.egress;
  }
}
