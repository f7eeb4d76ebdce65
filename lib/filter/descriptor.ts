import { FILTER_VERDICT } from '../dataplane/layout.js';
import { EnumCodec } from '../dataplane/enum-codec.js';
import { FILTER_REJECT_REASONS, type FilterAction, type FilterRejectReason } from '../config/filters.js';

/**
 * The verdict of one filter for one flow, as the fast path caches it for a session (in the verdict row its entries name)
 * (struct xdpfw_filter_verdict in bpf/xdpfw.h) and replays it on every packet of the
 * established flow without rescanning terms: the action to enforce, whether to log
 * (FILTER_LOG with source cached-input / cached-output / cached-lo0), the ids to put in the
 * event, the counter to bump and the routing table of a routing-instance action. The slow
 * path computes it with FilterEngine and writes it unchanged.
 *
 * Counter indexes are dense over the whole configuration (FilterEngine numbers them: filters
 * in id order, each filter's counters in order of first use), so the per-CPU array
 * xdpfw_filter_counters indexed by `counter` counts in XDP what FilterEngine.addCounts merges.
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
  /**
   * u32: the flow's residual program of per-packet terms (lib/filter/residual.ts) in
   * xdpfw_filter_programs, which XDP runs on every packet instead of replaying this verdict;
   * 0: this verdict holds for every packet; FILTER_PROGRAM_SLOW_PATH: the slow path judges each.
   * The fields above are then the verdict of the flow's first packet.
   */
  readonly program: number;
}

export const FILTER_ACTION_NONE = 0;
export const FILTER_ACTION_CODE: Readonly<Record<FilterAction, number>> = { accept: 1, discard: 2, reject: 3 };
export const FILTER_FLAG_LOG = 1;
export const FILTER_FLAG_SYSLOG = 2;

export const FILTER_DESCRIPTOR_SIZE = FILTER_VERDICT.size;
const L = FILTER_VERDICT.offset;

/** Throws unless the codes above are those of enum xdpfw_filter_action / xdpfw_filter_flags in the object. */
export function verifyFilterCodes(objectPath: string): void {
  const actions = new EnumCodec(objectPath, 'xdpfw_filter_action', 'XDPFW_FILTER_ACTION_', ['accept', 'discard', 'reject'] as const);
  const flags = new EnumCodec(objectPath, 'xdpfw_filter_flags', 'XDPFW_FILTER_FLAG_', ['log', 'syslog'] as const);
  const wrong = [
    ...(['accept', 'discard', 'reject'] as const).filter((a) => actions.value(a) !== FILTER_ACTION_CODE[a]),
    ...(flags.value('log') !== FILTER_FLAG_LOG ? ['log'] : []),
    ...(flags.value('syslog') !== FILTER_FLAG_SYSLOG ? ['syslog'] : []),
  ];
  if (wrong.length > 0) throw new Error(`filter verdict codes differ between ${objectPath} and lib/filter/descriptor.ts: ${wrong.join(', ')}`);
}

/** The descriptor of "no filter on this attach point". */
export const NO_FILTER: FilterDescriptor = Object.freeze({ filterId: 0, termId: 0, counter: 0, tableId: 0, action: FILTER_ACTION_NONE, flags: 0, rejectReason: 0, program: 0 });

export function rejectReasonCode(reason: FilterRejectReason | null): number {
  return reason === null ? 0 : FILTER_REJECT_REASONS.indexOf(reason);
}

export function filterActionName(code: number): FilterAction | null {
  return code === 1 ? 'accept' : code === 2 ? 'discard' : code === 3 ? 'reject' : null;
}

export function encodeFilterDescriptor(d: FilterDescriptor, out: Uint8Array, offset = 0): void {
  if (offset < 0 || offset + FILTER_DESCRIPTOR_SIZE > out.length) throw new RangeError('filter descriptor: buffer too small');
  const v = new DataView(out.buffer, out.byteOffset + offset, FILTER_DESCRIPTOR_SIZE);
  v.setUint32(L.filter_id, d.filterId, true);
  v.setUint16(L.term_id, d.termId, true);
  v.setUint16(L.counter, d.counter, true);
  v.setUint32(L.table_id, d.tableId, true);
  v.setUint8(L.action, d.action);
  v.setUint8(L.flags, d.flags);
  v.setUint8(L.reject_reason, d.rejectReason);
  v.setUint8(L.pad, 0);
  v.setUint32(L.program, d.program, true);
}

export function decodeFilterDescriptor(buf: Uint8Array, offset = 0): FilterDescriptor {
  if (offset < 0 || offset + FILTER_DESCRIPTOR_SIZE > buf.length) throw new RangeError('filter descriptor: buffer too small');
  const v = new DataView(buf.buffer, buf.byteOffset + offset, FILTER_DESCRIPTOR_SIZE);
  return {
    filterId: v.getUint32(L.filter_id, true),
    termId: v.getUint16(L.term_id, true),
    counter: v.getUint16(L.counter, true),
    tableId: v.getUint32(L.table_id, true),
    action: v.getUint8(L.action),
    flags: v.getUint8(L.flags),
    rejectReason: v.getUint8(L.reject_reason),
    program: v.getUint32(L.program, true),
  };
}
