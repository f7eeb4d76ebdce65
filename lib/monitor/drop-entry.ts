// One dropped packet as `monitor packet-drop` shows it, from either path:
// an XDP drop record (struct xdpfw_drop_record) or a slow-path drop.
import { StructLayout, arrayOf } from '../dataplane/layout.js';
import { btfEnum } from '../dataplane/native.js';
import { XDP_DROPS } from '../daemon/reports.js';
import { PROTOCOL_NUMBERS } from '../config/protocols.js';
import { type PacketHead, parsePacketHead } from './packet-head.js';

/** enum xdpfw_drop_monitor_constants: array sizes, so constants here; checked by verifyDropLayouts(). */
export const DROP_CAPTURE = 128;

export const DROP_RECORD = new StructLayout('xdpfw_drop_record', [
  ['monotonic_ns', 'u64'], ['counter', 'u32'], ['detail', 'u32'], ['ifindex', 'u32'], ['rx_queue', 'u32'],
  ['frame_len', 'u32'], ['captured', 'u32'], ['data', arrayOf('u8', DROP_CAPTURE)],
] as const);

export const DROP_WATCH = new StructLayout('xdpfw_drop_watch', [['per_second', 'u32'], ['pad', 'u32']] as const);

export const DROP_BUDGET = new StructLayout('xdpfw_drop_budget', [
  ['window_ns', 'u64'], ['used', 'u64'], ['over_budget', 'u64'], ['ring_full', 'u64'],
] as const);

/** Throws unless the object's drop-monitor layouts are the ones above. */
export function verifyDropLayouts(objectPath: string): void {
  const capture = btfEnum(objectPath, 'xdpfw_drop_monitor_constants').XDPFW_DROP_CAPTURE;
  const problems = [DROP_RECORD, DROP_WATCH, DROP_BUDGET].flatMap((l) => l.diff(objectPath));
  if (capture !== DROP_CAPTURE) problems.push(`XDPFW_DROP_CAPTURE: ${capture} in C, ${DROP_CAPTURE} here`);
  if (problems.length) throw new Error(`layout mismatch between ${objectPath} and lib/monitor/drop-entry.ts:\n  ${problems.join('\n  ')}`);
}

export interface DropEntry extends Omit<PacketHead, 'protocol'> {
  /** ISO 8601, wall clock. */
  time: string;
  /** Which path dropped it. */
  path: 'xdp' | 'slow-path';
  /** Where in that path: parse, screen, filter, session, tcp, fragment, icmp-error, route, policy, host-inbound, install, ... */
  stage: string;
  /** The drop counter's name, as `show counters` prints it under drops. */
  reason: string;
  /** The policy, filter/term or screen (attack name) that decided, where known. */
  rule: string | null;
  interface: string | null;
  zone: string | null;
  /** Protocol name (number when it has none); null when not IP. */
  protocol: string | null;
  protocolNumber: number | null;
  /** Bytes of the whole frame. */
  length: number;
}

const PROTOCOL_NAMES = new Map([...PROTOCOL_NUMBERS].map(([name, n]) => [n, name]));

/** Where an interface's packets come from. */
export type IngressNames = (ifindex: number) => { interface: string | null; zone: string | null };

export function dropEntry(
  frame: Uint8Array, length: number, ifindex: number, names: IngressNames,
  what: { time: Date; path: DropEntry['path']; stage: string; reason: string; rule: string | null },
): DropEntry {
  const { protocol, ...head } = parsePacketHead(frame);
  const where = names(ifindex);
  return {
    time: what.time.toISOString(), path: what.path, stage: what.stage, reason: what.reason, rule: what.rule,
    interface: where.interface, zone: where.zone,
    ...head,
    protocol: protocol === null ? null : (PROTOCOL_NAMES.get(protocol) ?? String(protocol)),
    protocolNumber: protocol,
    length,
  };
}

/** The stage of an XDP drop counter (C name without XDPFW_CNT_), by what it names. */
export function xdpStage(counter: string): string {
  const rules: Array<[RegExp, string]> = [
    [/MALFORMED|NON_IP|NEIGHBOR|TOO_BIG$/, 'parse'],
    [/SCREEN/, 'screen'],
    [/ICMP_ERROR/, 'icmp-error'],
    [/FILTER/, 'filter'],
    [/TCP_/, 'tcp'],
    [/FRAGMENT/, 'fragment'],
    [/ROUTE|PBR|MTU/, 'route'],
    [/WRONG_INTERFACE|INJECT_MISS/, 'session'],
    [/NO_SOCKET/, 'slow-path-queue'],
  ];
  return rules.find(([re]) => re.test(counter))?.[1] ?? 'xdp';
}

/** The reason of an XDP drop counter: its name under `drops` in `show counters`, else its own name. */
export function xdpReason(counter: string): string {
  return XDP_DROPS[counter] ?? counter.toLowerCase();
}

/** Decodes a record of the xdpfw_drops ring. */
export function decodeDropRecord(
  r: Buffer, offsetNs: bigint, counterNames: ReadonlyMap<number, string>, screenNames: ReadonlyMap<number, string>, names: IngressNames,
): DropEntry {
  if (r.length < DROP_RECORD.size) throw new Error(`drop record of ${r.length} bytes, ${DROP_RECORD.size} expected`);
  const O = DROP_RECORD.offset;
  const counterId = r.readUInt32LE(O.counter);
  const counter = counterNames.get(counterId) ?? `COUNTER_${counterId}`;
  const detail = r.readUInt32LE(O.detail);
  const captured = Math.min(r.readUInt32LE(O.captured), DROP_CAPTURE);
  const ns = r.readBigUInt64LE(O.monotonic_ns) + offsetNs;
  const rule = counter === 'DROP_SCREEN' ? (screenNames.get(detail) ?? null) : null;
  return dropEntry(r.subarray(O.data, O.data + captured), r.readUInt32LE(O.frame_len), r.readUInt32LE(O.ifindex), names, {
    time: new Date(Number(ns / 1_000_000n)), path: 'xdp', stage: xdpStage(counter), reason: xdpReason(counter), rule,
  });
}
