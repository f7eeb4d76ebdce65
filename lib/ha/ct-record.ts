// One conntrack entry as the daemon and its ctnetlink helper (dist/bin/xdpfw-ct,
// native/ct/) exchange it over a pipe: struct xdpfw_ct_record of
// native/ct/ct_record.h. checkCtRecordLayout() compares these offsets with the
// ones the helper was compiled with (`xdpfw-ct layout`), so the two cannot drift.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SESSION_KEY, StructLayout } from '../dataplane/layout.js';
import { packageRoot } from '../util/paths.js';
import type { TcpStateName } from '../session/tcp.js';

export const CT_RECORD = new StructLayout('xdpfw_ct_record', [
  ['op', 'u8'], ['tcp_state', 'u8'], ['wscale', { size: 2, align: 1 }], ['timeout', 'u32'], ['mark', 'u32'], ['pad', 'u32'],
  ['key', { size: SESSION_KEY.size, align: SESSION_KEY.align }],
] as const);

export const CT_UPSERT = 1;
export const CT_DELETE = 2;
export const NO_WSCALE = 0xff;

/**
 * The conntrack mark of a mirrored session: MIRROR_MARK_TAG in the top byte (what adoption
 * dumps by), the permitting policy's id in the low 24 bits.
 */
export const MIRROR_MARK_TAG = 0x58000000;
export const MIRROR_MARK_MASK = 0xff000000;
export const POLICY_ID_MASK = 0x00ffffff;

export const CT_HELPER = resolve(packageRoot, 'dist', 'bin', 'xdpfw-ct');

/** Differences between CT_RECORD and the helper's compiled layout; empty when they agree. */
export function ctRecordLayoutDiff(helper = CT_HELPER): string[] {
  const c = JSON.parse(execFileSync(helper, ['layout'], { encoding: 'utf8' })) as Record<string, number>;
  const here: Record<string, number> = {
    size: CT_RECORD.size, op: CT_RECORD.offset.op, tcp_state: CT_RECORD.offset.tcp_state, wscale: CT_RECORD.offset.wscale,
    timeout: CT_RECORD.offset.timeout, mark: CT_RECORD.offset.mark, key: CT_RECORD.offset.key,
    key_family: SESSION_KEY.offset.family, key_protocol: SESSION_KEY.offset.protocol, key_src_port: SESSION_KEY.offset.src_port,
    key_dst_port: SESSION_KEY.offset.dst_port, key_src_addr: SESSION_KEY.offset.src_addr, key_dst_addr: SESSION_KEY.offset.dst_addr,
  };
  return Object.entries(here).filter(([k, v]) => c[k] !== v).map(([k, v]) => `xdpfw_ct_record ${k}: ${c[k]} in ${helper}, ${v} in lib/ha/ct-record.ts`);
}

/** Writes one record at `at` of `out`; `tuple`: the client's struct xdpfw_session_key. */
export function encodeCtRecord(out: Buffer, at: number, op: number, tuple: Uint8Array, tcpState: number, timeoutS: number, mark: number): void {
  out.fill(0, at, at + CT_RECORD.size);
  out[at + CT_RECORD.offset.op] = op;
  out[at + CT_RECORD.offset.tcp_state] = tcpState;
  out[at + CT_RECORD.offset.wscale] = NO_WSCALE;
  out[at + CT_RECORD.offset.wscale + 1] = NO_WSCALE;
  out.writeUInt32LE(timeoutS >>> 0, at + CT_RECORD.offset.timeout);
  out.writeUInt32LE(mark >>> 0, at + CT_RECORD.offset.mark);
  out.set(tuple.subarray(0, SESSION_KEY.size), at + CT_RECORD.offset.key);
}

export interface CtEntry {
  /** The client's tuple (struct xdpfw_session_key). */
  key: Buffer;
  /** enum tcp_conntrack (0 for other protocols). */
  tcpState: number;
  wscale: [number, number];
  timeoutS: number;
  mark: number;
}

export function decodeCtRecords(buf: Buffer): CtEntry[] {
  const out: CtEntry[] = [];
  for (let at = 0; at + CT_RECORD.size <= buf.length; at += CT_RECORD.size) {
    const k = at + CT_RECORD.offset.key;
    out.push({
      key: Buffer.from(buf.subarray(k, k + SESSION_KEY.size)),
      tcpState: buf[at + CT_RECORD.offset.tcp_state]!,
      wscale: [buf[at + CT_RECORD.offset.wscale]!, buf[at + CT_RECORD.offset.wscale + 1]!],
      timeoutS: buf.readUInt32LE(at + CT_RECORD.offset.timeout),
      mark: buf.readUInt32LE(at + CT_RECORD.offset.mark),
    });
  }
  return out;
}

/**
 * enum tcp_conntrack (linux/netfilter/nf_conntrack_tcp.h, kernel ABI) by xdpfw's TCP state
 * names: the two machines have the same states in the same order.
 */
const CONNTRACK_TCP_STATES: readonly TcpStateName[] = ['none', 'syn-sent', 'syn-recv', 'established', 'fin-wait', 'close-wait', 'last-ack', 'time-wait', 'close'];

export function conntrackTcpState(name: TcpStateName): number {
  return CONNTRACK_TCP_STATES.indexOf(name);
}

export function tcpStateOfConntrack(value: number): TcpStateName | undefined {
  return CONNTRACK_TCP_STATES[value];
}
