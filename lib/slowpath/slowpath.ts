// The slow path: judges each packet the fast path could not (first packets,
// TCP SYN/FIN/RST), installs sessions, and re-injects the packet through
// xdpfw_inject so it leaves exactly as the fast path would send it.
import { ROUTE_RESULT } from '../dataplane/layout.js';
import { progTestRun } from '../dataplane/native.js';
import type { CompiledConfig, Zone } from '../config/types.js';
import { PolicyEngine } from '../policy/engine.js';
import { hostInboundAllows } from '../policy/host-inbound.js';
import type { SecurityEvent } from '../events/types.js';
import { policyDenyEvent, sessionCreateEvent } from '../session/flow-events.js';
import { IPPROTO_TCP, describeKey, familyName, keyId } from '../session/flow-key.js';
import type { Session, SessionTable } from '../session/table.js';
import { REJECT_FRAME_MAX, type RejectCounters, Rejecter } from './reject.js';
import { TCP_RST, advance, opensSession } from '../session/tcp.js';
import { FrameReader } from './frame.js';

/** Why the slow path dropped a packet; each has a counter. */
export type SlowPathDrop =
  | 'policy_deny'
  | 'policy_reject'
  | 'tcp_not_syn'
  | 'host_inbound_denied'
  | 'no_route'
  | 'no_zone'
  | 'session_table_full'
  | 'session_map_error'
  | 'bad_metadata'
  | 'inject_failed';

export const LOCAL_ZONE = 'junos-host';

const XDP_PASS = 2;
const FIB_SUCCESS = 0;
const FIB_NOT_FWDED = 4;
const FIB_NO_NEIGH = 7;

/** The receiving socket of a frame. */
export interface RxQueue {
  ifindex: number;
  queue: number;
  zone: Zone | null;
  reader: FrameReader;
  umem: ArrayBuffer;
  /** Sends a frame out of this interface; false if the tx ring had no room. */
  transmit(frame: Uint8Array, length: number): boolean;
}

export interface SlowPathStats {
  received: number;
  injected: number;
  drops: Map<SlowPathDrop, number>;
  /** Reject replies (RST / ICMP unreachable): built and sent, rate-limited, not due. */
  rejects: RejectCounters;
  /** Replies built but lost to a full AF_XDP tx ring. */
  rejectTxFull: number;
}

export class SlowPath {
  private readonly rejecter = new Rejecter();
  readonly stats: SlowPathStats = { received: 0, injected: 0, drops: new Map(), rejects: this.rejecter.counters, rejectTxFull: 0 };
  private readonly replyFrame = new Uint8Array(REJECT_FRAME_MAX);
  private engine: PolicyEngine;
  private zoneByIfindex: Map<number, Zone>;

  constructor(
    private readonly progs: { inject: number; route: number },
    private readonly sessions: SessionTable,
    config: CompiledConfig,
    zoneByIfindex: Map<number, Zone>,
    /** Where security events go (the bounded producer). */
    private readonly emit: (ev: SecurityEvent) => void,
  ) {
    this.engine = new PolicyEngine(config);
    this.zoneByIfindex = zoneByIfindex;
  }

  get policies(): PolicyEngine {
    return this.engine;
  }

  setConfig(config: CompiledConfig, zoneByIfindex: Map<number, Zone>): void {
    const previous = this.engine;
    this.engine = new PolicyEngine(config);
    this.engine.carryHitsFrom(previous);
    this.zoneByIfindex = zoneByIfindex;
  }

  private drop(reason: SlowPathDrop): void {
    this.stats.drops.set(reason, (this.stats.drops.get(reason) ?? 0) + 1);
  }

  /** Judges one frame (umem offset `addr`, `length` bytes). */
  handle(rx: RxQueue, addr: number, length: number): void {
    this.stats.received++;
    const reader = rx.reader;
    if (!reader.read(addr, length)) return this.drop('bad_metadata');
    const facts = reader.facts;
    const frame = new Uint8Array(rx.umem, addr, length);

    const session = this.sessions.lookup(keyId(reader.key));
    if (session) return this.continueSession(rx, frame, session);

    if (facts.protocol === IPPROTO_TCP && !opensSession(facts.tcpFlags)) return this.drop('tcp_not_syn');
    const fromZone = rx.zone;
    if (!fromZone) return this.drop('no_zone');

    const route = this.probeRoute(rx, frame);
    if (route.local) return this.toLocal(rx, frame, fromZone);
    if (route.egress === 0) return this.drop('no_route');
    const toZone = this.zoneByIfindex.get(route.egress);
    if (!toZone) return this.drop('no_zone');

    const decision = this.engine.match({
      fromZone: fromZone.name,
      toZone: toZone.name,
      family: familyName(facts.family),
      protocol: facts.protocol,
      source: reader.sourceAddress(),
      destination: reader.destinationAddress(),
      sourcePort: facts.sourcePort,
      destinationPort: facts.destinationPort,
      icmpType: facts.icmpType,
      icmpCode: facts.icmpCode,
    });
    const logs = decision.policy?.logInit ?? false;
    if (decision.action !== 'permit') {
      if (logs) {
        this.emit(policyDenyEvent(describeKey(reader.key), facts.icmpType, { ifindex: rx.ifindex, zoneId: fromZone.id },
          { ifindex: route.egress, zoneId: toZone.id }, decision.action, decision.policyId));
      }
      if (decision.action === 'reject') this.reject(rx, frame);
      return this.drop(decision.action === 'reject' ? 'policy_reject' : 'policy_deny');
    }

    const installed = this.sessions.install(reader.key, {
      fromZone: fromZone.name, fromZoneId: fromZone.id,
      toZone: toZone.name, toZoneId: toZone.id,
      policyId: decision.policyId, policyName: decision.policyName,
      ingressIfindex: rx.ifindex, egressIfindex: route.egress, local: false,
      logClose: decision.policy?.logClose ?? false, icmpType: facts.icmpType,
    }, facts.protocol);
    if (!installed.ok) return this.drop(installed.reason);
    this.inject(rx, frame);
    if (logs) this.emit(sessionCreateEvent(installed.session));
  }

  /** Answers the source (RST or ICMP unreachable) through the socket the packet came in on. */
  private reject(rx: RxQueue, frame: Uint8Array): void {
    const f = rx.reader.facts;
    const n = this.rejecter.reply(frame, f.l3Offset, f.family, f.protocol, this.replyFrame);
    if (n > 0 && !rx.transmit(this.replyFrame, n)) this.stats.rejectTxFull++;
  }

  private toLocal(rx: RxQueue, frame: Uint8Array, zone: Zone): void {
    const f = rx.reader.facts;
    if (!hostInboundAllows(zone, f.protocol, f.destinationPort, f.icmpType)) return this.drop('host_inbound_denied');
    const installed = this.sessions.install(rx.reader.key, {
      fromZone: zone.name, fromZoneId: zone.id, toZone: LOCAL_ZONE, toZoneId: 0,
      policyId: 0, policyName: 'host-inbound-traffic',
      ingressIfindex: rx.ifindex, egressIfindex: 0, local: true, logClose: false, icmpType: f.icmpType,
    }, f.protocol);
    if (!installed.ok) return this.drop(installed.reason);
    this.inject(rx, frame);
  }

  /** A packet of a known session that the fast path sent up: TCP flags. */
  private continueSession(rx: RxQueue, frame: Uint8Array, session: Session): void {
    const f = rx.reader.facts;
    if (session.tcp) {
      const fromServer = this.sessions.isReverse(session, keyId(rx.reader.key));
      const next = advance(session.tcp, f.tcpFlags, fromServer);
      if (next.phase !== session.tcp.phase || next.finFromClient !== session.tcp.finFromClient ||
          next.finFromServer !== session.tcp.finFromServer) {
        this.sessions.setTcpState(session, next);
      }
    }
    this.inject(rx, frame);
    if (session.tcp && (f.tcpFlags & TCP_RST)) this.sessions.close(session, 'TCP RST');
  }

  /** Where the kernel would send this packet: an egress ifindex, or the box itself. */
  private probeRoute(rx: RxQueue, frame: Uint8Array): { local: boolean; egress: number } {
    const out = progTestRun(this.progs.route, {
      data: frame, ifindex: rx.ifindex, rxQueue: rx.queue, dataOutSize: frame.length + ROUTE_RESULT.size,
    });
    if (out.retval !== XDP_PASS || !out.dataOut) return { local: false, egress: 0 };
    const rc = out.dataOut.readUInt32LE(ROUTE_RESULT.offset.fib_rc);
    if (rc === FIB_NOT_FWDED) return { local: true, egress: 0 };
    if (rc === FIB_SUCCESS || rc === FIB_NO_NEIGH) {
      return { local: false, egress: out.dataOut.readUInt32LE(ROUTE_RESULT.offset.ifindex) };
    }
    return { local: false, egress: 0 };
  }

  /** Sends the frame on through xdpfw_inject (live frames): forwarded as by the fast path. */
  private inject(rx: RxQueue, frame: Uint8Array): void {
    try {
      progTestRun(this.progs.inject, { data: frame, ifindex: rx.ifindex, rxQueue: rx.queue, live: true });
      this.stats.injected++;
    } catch {
      this.drop('inject_failed');
    }
  }
}
