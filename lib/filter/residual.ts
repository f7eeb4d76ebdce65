// A flow's residual filter program (FilterEngine.residual) in the layout XDP runs it from:
// struct xdpfw_filter_program in bpf/filter_terms.h.
import { FILTER_LENGTH_RANGES, FILTER_PROGRAM, FILTER_PROGRAM_TERMS, FILTER_TERM, MAX_POLICERS } from '../dataplane/layout.js';
import { btfEnum } from '../dataplane/native.js';
import { encodeFilterDescriptor } from './descriptor.js';
import type { ResidualTerm } from './engine.js';

/** enum xdpfw_filter_term_conds. */
export const TERM_TCP_FLAGS = 1;
export const TERM_DSCP = 2;
export const TERM_ICMP_TYPE = 4;
export const TERM_ICMP_CODE = 8;
export const TERM_PACKET_LENGTH = 16;
export const TERM_TTL = 32;

export const FILTER_PROGRAM_SIZE = FILTER_PROGRAM.size;

/** Whether the program needs running per packet: more than its unconditional last term, or a policer there. */
export function hasPerPacketTerms(terms: readonly ResidualTerm[]): boolean {
  return terms.length > 1 || terms.some((t) => t.policer !== 0);
}

/**
 * The program's bytes, or null when it exceeds what XDP runs (FILTER_PROGRAM_TERMS terms,
 * FILTER_LENGTH_RANGES packet-length ranges per term): the slow path must judge its packets.
 */
export function encodeResidual(terms: readonly ResidualTerm[]): Buffer | null {
  if (terms.length === 0 || terms.length > FILTER_PROGRAM_TERMS) return null;
  if (terms.some((t) => t.policer >= MAX_POLICERS)) return null;
  if (terms.some((t) => t.packetLength !== null && t.packetLength.length / 2 > FILTER_LENGTH_RANGES)) return null;
  const out = Buffer.alloc(FILTER_PROGRAM.size);
  out.writeUInt32LE(terms.length, FILTER_PROGRAM.offset.terms);
  terms.forEach((t, i) => {
    const at = FILTER_PROGRAM.offset.term + i * FILTER_TERM.size;
    const O = FILTER_TERM.offset;
    encodeFilterDescriptor({ ...t.descriptor, program: 0 }, out, at + O.verdict);
    let conds = 0;
    if (t.tcpFlags) {
      conds |= TERM_TCP_FLAGS;
      out.writeUInt32LE(t.tcpFlags[0] >>> 0, at + O.tcp_flags);
      out.writeUInt32LE(t.tcpFlags[1] >>> 0, at + O.tcp_flags + 4);
    }
    const words = (bits: Uint32Array | null, cond: number, offset: number, n: number): void => {
      if (!bits) return;
      conds |= cond;
      for (let w = 0; w < n; w++) out.writeUInt32LE(bits[w]! >>> 0, at + offset + 4 * w);
    };
    words(t.dscp, TERM_DSCP, O.dscp, 2);
    words(t.icmpType, TERM_ICMP_TYPE, O.icmp_type, 8);
    words(t.icmpCode, TERM_ICMP_CODE, O.icmp_code, 8);
    words(t.ttl, TERM_TTL, O.ttl, 8);
    out.writeUInt32LE(t.policer, at + O.policer);
    for (let r = 0; r < FILTER_LENGTH_RANGES; r++) {
      // Unused ranges are empty: low 1, high 0.
      const used = t.packetLength !== null && 2 * r < t.packetLength.length;
      out.writeUInt16LE(used ? t.packetLength![2 * r]! : 1, at + O.length_low + 2 * r);
      out.writeUInt16LE(used ? t.packetLength![2 * r + 1]! : 0, at + O.length_high + 2 * r);
    }
    if (t.packetLength) conds |= TERM_PACKET_LENGTH;
    out.writeUInt32LE(conds, at + O.conds);
  });
  return out;
}

/** Throws unless the condition codes above are those of enum xdpfw_filter_term_conds in the object. */
export function verifyTermConds(objectPath: string): void {
  const c = btfEnum(objectPath, 'xdpfw_filter_term_conds');
  const expected: Record<string, number> = {
    XDPFW_TERM_TCP_FLAGS: TERM_TCP_FLAGS, XDPFW_TERM_DSCP: TERM_DSCP, XDPFW_TERM_ICMP_TYPE: TERM_ICMP_TYPE,
    XDPFW_TERM_ICMP_CODE: TERM_ICMP_CODE, XDPFW_TERM_PACKET_LENGTH: TERM_PACKET_LENGTH, XDPFW_TERM_TTL: TERM_TTL,
  };
  const wrong = Object.entries(expected).filter(([k, v]) => c[k] !== v).map(([k]) => k);
  if (wrong.length > 0) throw new Error(`filter term condition codes differ between ${objectPath} and lib/filter/residual.ts: ${wrong.join(', ')}`);
}
