// `xdpfw trace`: a described packet judged by the real programs, stage by
// stage. XDP: the trace instance of the object (lib/trace/xdp-trace.ts), with
// copies of the packet's session entries; what it decided is read from the
// counter it moved (every XDP verdict moves exactly one) and its drop record.
// Slow path: the engines the slow path judges with (filters, route probe,
// policies, host-inbound-traffic), asked without counting, in the slow path's
// order. Nothing the running firewall counts or keeps changes.
import type { CompiledConfig, Zone } from '../config/types.js';
import { RX_META } from '../dataplane/layout.js';
import { XDP_DROP, XDP_REDIRECT, XDP_TX } from '../dataplane/xdp-abi.js';
import { hostInboundAllows } from '../policy/host-inbound.js';
import type { PolicyEngine } from '../policy/engine.js';
import { IPPROTO_TCP, familyName, keyId } from '../session/flow-key.js';
import type { SessionTable } from '../session/table.js';
import { opensSession } from '../session/tcp.js';
import type { FlowFilters } from '../slowpath/flow-filters.js';
import { FrameReader } from '../slowpath/frame.js';
import type { RouteProbe } from '../slowpath/route-probe.js';
import { filterRule } from '../slowpath/slowpath.js';
import type { FilterResult } from '../filter/engine.js';
import { xdpReason } from '../monitor/drop-entry.js';
import { XdpTrace } from './xdp-trace.js';

export interface TraceStage {
  stage: 'parse' | 'screens' | 'session' | 'input-filter' | 'zone' | 'route' | 'tcp' | 'policy' | 'output-filter' | 'host-inbound' | 'lo0-filter' | 'translation';
  /** Where it was judged. */
  path: 'xdp' | 'slow-path';
  verdict: string;
  detail?: string;
}

export interface TraceFinal {
  /** forward, local (delivered to the box), kernel (handed to the kernel stack), drop, reject,
   * answer (a proxy-arp / proxy-ndp answer sent back out of the interface). */
  action: 'forward' | 'local' | 'kernel' | 'drop' | 'reject' | 'answer';
  /** The counter or drop reason, as `show counters` names it. */
  reason: string;
  /** Egress interface of a forwarded packet. */
  egress?: string;
}

export interface TraceReport {
  interface: string;
  stages: TraceStage[];
  final: TraceFinal;
}

export interface TraceContext {
  xdp: XdpTrace;
  runningSessions: number;
  sessions: SessionTable;
  filters: FlowFilters;
  policies: PolicyEngine;
  routes: RouteProbe;
  config: CompiledConfig;
  zoneOf(ifindex: number): Zone | null;
  nameOf(ifindex: number): string;
  screenName(id: number): string;
}

const NOT_A_VERDICT = new Set(['EVENT_RESERVE_FAIL', 'FILTER_PROGRAM_SLOW_PATH', 'EGRESS_LOOKUP']);
const PARSE = new Set(['DROP_MALFORMED', 'DROP_NON_IP', 'DROP_NEIGHBOR', 'PASS_NON_IP', 'PASS_NEIGHBOR', 'DROP_TOO_BIG',
  'PROXY_ARP_ANSWER', 'PROXY_NDP_ANSWER', 'DROP_PROXY_NO_ROOM']);

function filterVerdict(r: FilterResult | null): { verdict: string; detail?: string } {
  if (!r) return { verdict: 'none' };
  return { verdict: r.action, detail: filterRule(r) + (r.routingInstanceName ? `, routing-instance ${r.routingInstanceName}` : '') };
}

export function trace(ctx: TraceContext, frame: Buffer, key: Buffer | null, ifindex: number): TraceReport {
  const ifname = ctx.nameOf(ifindex);
  const zone = ctx.zoneOf(ifindex);
  const stages: TraceStage[] = [];
  const report = (final: TraceFinal): TraceReport => ({ interface: ifname, stages, final });

  const entries = key ? XdpTrace.sessionEntries(ctx.runningSessions, key) : [];
  const run = ctx.xdp.run(frame, ifindex, entries);
  const counter = run.counters.find((c) => !NOT_A_VERDICT.has(c)) ?? 'NONE';
  const dropped = run.retval === XDP_DROP;
  const xdpFinal = (): TraceFinal => ({
    action: dropped ? 'drop' : run.retval === XDP_REDIRECT ? 'forward' : run.retval === XDP_TX ? 'answer' : counter.endsWith('LOCAL') ? 'local' : 'kernel',
    reason: dropped ? xdpReason(counter) : counter.toLowerCase(),
  });

  if (PARSE.has(counter)) {
    const verdict = dropped ? 'drop' : run.retval === XDP_TX ? 'answered' : 'pass to kernel';
    stages.push({ stage: 'parse', path: 'xdp', verdict, detail: xdpReason(counter) });
    return report(xdpFinal());
  }
  stages.push({ stage: 'parse', path: 'xdp', verdict: 'ok' });
  const profile = zone?.screen ?? null;
  if (counter === 'DROP_SCREEN') {
    stages.push({ stage: 'screens', path: 'xdp', verdict: 'drop', detail: `${ctx.screenName(run.dropDetail ?? 0)} (ids-option ${profile})` });
    return report(xdpFinal());
  }
  stages.push({ stage: 'screens', path: 'xdp', verdict: profile ? 'pass' : 'none', detail: profile ? `ids-option ${profile}` : `zone ${zone?.name ?? '-'} has no screen` });

  if (counter !== 'SLOW_PATH' && counter !== 'SESSION_REROUTED') {
    const s = key ? ctx.sessions.lookup(keyId(key)) : undefined;
    const detail = s ? `session ${s.id}, policy ${s.policyName}, ${s.fromZone} -> ${s.toZone}` : undefined;
    stages.push({ stage: 'session', path: 'xdp', verdict: entries.length ? (dropped ? `hit, dropped: ${xdpReason(counter)}` : 'hit') : `miss, ${dropped ? `dropped: ${xdpReason(counter)}` : counter.toLowerCase()}`, detail });
    const final = xdpFinal();
    if (final.action === 'forward' && s) final.egress = ctx.nameOf(key!.equals(s.key) ? s.egressIfindex : s.ingressIfindex);
    return report(final);
  }
  stages.push({ stage: 'session', path: 'xdp', verdict: counter === 'SLOW_PATH' ? 'miss: to the slow path' : 'route moved: to the slow path' });
  return slowPath(ctx, run.out, run.metaLength, ifindex, zone, stages, report);
}

function slowPath(
  ctx: TraceContext, out: Buffer, metaLength: number, ifindex: number, fromZone: Zone | null, stages: TraceStage[],
  report: (f: TraceFinal) => TraceReport,
): TraceReport {
  const sp = 'slow-path' as const;
  const umem = new ArrayBuffer(out.length);
  new Uint8Array(umem).set(out);
  const reader = new FrameReader(umem);
  const length = out.length - metaLength;
  if (metaLength < RX_META.size || !reader.read(metaLength, length)) return report({ action: 'drop', reason: 'bad_metadata' });
  const f = reader.facts;
  const family = familyName(f.family);
  const known = ctx.sessions.lookup(keyId(reader.key));
  if (known) {
    stages.push({ stage: 'session', path: sp, verdict: 'known session', detail: `session ${known.id}, policy ${known.policyName} (its packet follows the session)` });
    return report({ action: 'forward', reason: 'session' });
  }
  const input = ctx.filters.peek(ctx.filters.input(ifindex, family), reader);
  stages.push({ stage: 'input-filter', path: sp, ...filterVerdict(input) });
  if (input && input.action !== 'accept') return report({ action: input.action === 'reject' ? 'reject' : 'drop', reason: `filter_${input.action}` });
  if (!fromZone) {
    stages.push({ stage: 'zone', path: sp, verdict: 'drop', detail: 'the interface is in no zone' });
    return report({ action: 'drop', reason: 'no_zone' });
  }
  const frame = Buffer.from(umem);
  const route = ctx.routes.lookup(frame, metaLength, length, ifindex, 0, input?.routingInstance ?? 0);
  const noSynCheck = ctx.config.flow.tcpSession.noSynCheck;
  if (route.local && route.boxConnection) {
    stages.push({ stage: 'route', path: sp, verdict: 'local', detail: 'answers a connection of the box' });
    return toLocal(ctx, reader, fromZone, true, stages, report);
  }
  if (f.protocol === IPPROTO_TCP && !opensSession(f.tcpFlags) && !noSynCheck) {
    stages.push({ stage: 'tcp', path: sp, verdict: 'drop', detail: 'not a SYN (syn-check)' });
    return report({ action: 'drop', reason: 'tcp_not_syn' });
  }
  if (route.local) {
    stages.push({ stage: 'route', path: sp, verdict: 'local', detail: 'addressed to the box' });
    return toLocal(ctx, reader, fromZone, false, stages, report);
  }
  if (route.egress === 0) {
    stages.push({ stage: 'route', path: sp, verdict: 'drop', detail: 'no route' });
    return report({ action: 'drop', reason: 'no_route' });
  }
  const toZone = ctx.zoneOf(route.egress);
  const egress = ctx.nameOf(route.egress);
  stages.push({ stage: 'route', path: sp, verdict: `egress ${egress}`, detail: `zone ${toZone?.name ?? '-'}${route.resolved ? '' : ', next hop not resolved yet'}` });
  if (!toZone) return report({ action: 'drop', reason: 'no_zone' });
  const decision = ctx.policies.lookup({
    fromZone: fromZone.name, toZone: toZone.name, family, protocol: f.protocol,
    source: reader.sourceAddress(), destination: reader.destinationAddress(),
    sourcePort: f.sourcePort, destinationPort: f.destinationPort, icmpType: f.icmpType, icmpCode: f.icmpCode,
  });
  stages.push({ stage: 'policy', path: sp, verdict: decision.action, detail: `${decision.policyName} (${fromZone.name} -> ${toZone.name})` });
  if (decision.action !== 'permit') return report({ action: decision.action === 'reject' ? 'reject' : 'drop', reason: `policy_${decision.action}` });
  const output = ctx.filters.peek(ctx.filters.output(route.egress, family), reader);
  stages.push({ stage: 'output-filter', path: sp, ...filterVerdict(output) });
  if (output && output.action !== 'accept') return report({ action: output.action === 'reject' ? 'reject' : 'drop', reason: `filter_${output.action}` });
  stages.push({ stage: 'translation', path: sp, verdict: 'none', detail: 'no NAT' });
  return report({ action: 'forward', reason: 'session_created', egress });
}

function toLocal(
  ctx: TraceContext, reader: FrameReader, zone: Zone, boxConnection: boolean, stages: TraceStage[], report: (f: TraceFinal) => TraceReport,
): TraceReport {
  const f = reader.facts;
  const allowed = boxConnection || hostInboundAllows(zone, f.protocol, f.destinationPort, f.icmpType);
  stages.push({ stage: 'host-inbound', path: 'slow-path', verdict: allowed ? 'allow' : 'drop', detail: boxConnection ? 'reply to the box' : `host-inbound-traffic of zone ${zone.name}` });
  if (!allowed) return report({ action: 'drop', reason: 'host_inbound_denied' });
  const lo0 = ctx.filters.peek(ctx.filters.lo0Filter(familyName(f.family)), reader);
  stages.push({ stage: 'lo0-filter', path: 'slow-path', ...filterVerdict(lo0) });
  if (lo0 && lo0.action !== 'accept') return report({ action: lo0.action === 'reject' ? 'reject' : 'drop', reason: `filter_${lo0.action}` });
  return report({ action: 'local', reason: 'session_created' });
}


