import { FILTER_REJECT_REASONS, type FilterAction, type FilterRejectReason } from '../config/filters.js';

/**
 * The verdict of one filter for one flow, as the fast path caches it in a session entry and
 * replays it on every packet of the established flow without rescanning terms: the action
 * to enforce, whether to log (FILTER_LOG with source cached-input / cached-output), the ids
 * to put in the event, the counter to bump and the routing table of a routing-instance
 * action. The slow path computes it with FilterEngine and writes it unchanged.
 *
 * C mirror (16 bytes, little-endian like every map value; no implicit padding):
 *
 *   enum xdpfw_filter_action { XDPFW_FILTER_NONE = 0, XDPFW_FILTER_ACCEPT = 1,
 *                              XDPFW_FILTER_DISCARD = 2, XDPFW_FILTER_REJECT = 3 };
 *   enum xdpfw_filter_flags  { XDPFW_FILTER_LOG = 1, XDPFW_FILTER_SYSLOG = 2 };
 *
 *   struct xdpfw_filter_verdict {
 *       __u32 filter_id;     // 0: no filter attached (the rest is zero too)
 *       __u16 term_id;       // 0: the implicit discard
 *       __u16 counter;       // 1-based index of the `count` counter; 0: none
 *       __u32 table_id;      // kernel routing table of `routing-instance`; 0: none (main)
 *       __u8  action;        // enum xdpfw_filter_action
 *       __u8  flags;         // enum xdpfw_filter_flags
 *       __u8  reject_reason; // index in FILTER_REJECT_REASONS (0: tcp-reset); 0 unless REJECT
 *       __u8  pad;
 *   };
 *
 * Counter indexes are dense over the whole configuration (FilterEngine numbers them: filters
 * in id order, each filter's counters in order of first use), so a per-CPU array of
 * { packets, bytes } indexed by `counter` can count in XDP what FilterEngine.addCounts merges.
 */
export interface FilterDescriptor {
  /** u32 */
  readonly filterId: number;
  /** u16 */
  readonly termId: number;
  /** u16, 0: none */
  readonly counter: number;
  /** u32, 0: none */
  readonly tableId: number;
  /** u8, FILTER_ACTION_CODE */
  readonly action: number;
  /** u8, FILTER_FLAG_* */
  readonly flags: number;
  /** u8, index in FILTER_REJECT_REASONS */
  readonly rejectReason: number;
}

export const FILTER_ACTION_NONE = 0;
export const FILTER_ACTION_CODE: Readonly<Record<FilterAction, number>> = { accept: 1, discard: 2, reject: 3 };
export const FILTER_FLAG_LOG = 1;
export const FILTER_FLAG_SYSLOG = 2;

export const FILTER_DESCRIPTOR_SIZE = 16;
/** Byte offsets of struct xdpfw_filter_verdict. */
export const FILTER_DESCRIPTOR_LAYOUT = {
  filter_id: 0,
  term_id: 4,
  counter: 6,
  table_id: 8,
  action: 12,
  flags: 13,
  reject_reason: 14,
  pad: 15,
} as const;

/** The descriptor of "no filter on this attach point". */
export const NO_FILTER: FilterDescriptor = Object.freeze({ filterId: 0, termId: 0, counter: 0, tableId: 0, action: FILTER_ACTION_NONE, flags: 0, rejectReason: 0 });

export function rejectReasonCode(reason: FilterRejectReason | null): number {
  return reason === null ? 0 : FILTER_REJECT_REASONS.indexOf(reason);
}

export function filterActionName(code: number): FilterAction | null {
  return code === 1 ? 'accept' : code === 2 ? 'discard' : code === 3 ? 'reject' : null;
}

export function encodeFilterDescriptor(d: FilterDescriptor, out: Uint8Array, offset = 0): void {
  if (offset < 0 || offset + FILTER_DESCRIPTOR_SIZE > out.length) throw new RangeError('filter descriptor: buffer too small');
  const v = new DataView(out.buffer, out.byteOffset + offset, FILTER_DESCRIPTOR_SIZE);
  const L = FILTER_DESCRIPTOR_LAYOUT;
  v.setUint32(L.filter_id, d.filterId, true);
  v.setUint16(L.term_id, d.termId, true);
  v.setUint16(L.counter, d.counter, true);
  v.setUint32(L.table_id, d.tableId, true);
  v.setUint8(L.action, d.action);
  v.setUint8(L.flags, d.flags);
  v.setUint8(L.reject_reason, d.rejectReason);
  v.setUint8(L.pad, 0);
}

export function decodeFilterDescriptor(buf: Uint8Array, offset = 0): FilterDescriptor {
  if (offset < 0 || offset + FILTER_DESCRIPTOR_SIZE > buf.length) throw new RangeError('filter descriptor: buffer too small');
  const v = new DataView(buf.buffer, buf.byteOffset + offset, FILTER_DESCRIPTOR_SIZE);
  const L = FILTER_DESCRIPTOR_LAYOUT;
  return {
    filterId: v.getUint32(L.filter_id, true),
    termId: v.getUint16(L.term_id, true),
    counter: v.getUint16(L.counter, true),
    tableId: v.getUint32(L.table_id, true),
    action: v.getUint8(L.action),
    flags: v.getUint8(L.flags),
    rejectReason: v.getUint8(L.reject_reason),
  };
}
