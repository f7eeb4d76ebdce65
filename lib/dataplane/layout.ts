// TypeScript's view of the layouts defined in bpf/xdpfw.h. Offsets follow
// the C alignment rules; verifyLayouts() compares them with the BTF of the
// compiled object, so the two can never silently drift apart.
import { btfEnum, btfStruct } from './native.js';

type ScalarKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes16';
/** A scalar, or an array / nested struct by its size and alignment. */
type FieldKind = ScalarKind | { readonly size: number; readonly align: number };

const KIND_SIZE: Record<ScalarKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes16: 16 };
const KIND_ALIGN: Record<ScalarKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes16: 4 };
const sizeOf = (k: FieldKind): number => (typeof k === 'string' ? KIND_SIZE[k] : k.size);
const alignOf = (k: FieldKind): number => (typeof k === 'string' ? KIND_ALIGN[k] : k.align);

/** `n` elements of a scalar, or of a struct layout. */
export function arrayOf(kind: ScalarKind | StructLayout<string>, n: number): FieldKind {
  if (typeof kind === 'string') return { size: KIND_SIZE[kind] * n, align: KIND_ALIGN[kind] };
  return { size: kind.size * n, align: kind.align };
}

/**
 * Bounds of a residual filter program (enum xdpfw_filter_program_limits in bpf/filter_terms.h):
 * array sizes of the layouts below, so constants here; verifyLayouts() and
 * verifyProgramLimits() check them against the object.
 */
export const FILTER_PROGRAM_TERMS = 8;
export const FILTER_LENGTH_RANGES = 4;
export const MAX_FILTER_PROGRAMS = 4096;
export const FILTER_PROGRAM_SLOW_PATH = MAX_FILTER_PROGRAMS;
export const MAX_POLICERS = 1024;

export class StructLayout<F extends string> {
  readonly size: number;
  readonly align: number;
  readonly offset: Readonly<Record<F, number>>;
  private readonly fields: ReadonlyArray<{ name: F; kind: FieldKind; offset: number }>;

  constructor(readonly cName: string, spec: ReadonlyArray<readonly [F, FieldKind]>) {
    let at = 0;
    let align = 1;
    const fields: Array<{ name: F; kind: FieldKind; offset: number }> = [];
    for (const [name, kind] of spec) {
      const a = alignOf(kind);
      at = Math.ceil(at / a) * a;
      fields.push({ name, kind, offset: at });
      at += sizeOf(kind);
      align = Math.max(align, a);
    }
    this.size = Math.ceil(at / align) * align;
    this.align = align;
    this.fields = fields;
    this.offset = Object.fromEntries(fields.map((f) => [f.name, f.offset])) as Record<F, number>;
  }

  /** Differences between this layout and the C struct in the object's BTF. */
  diff(objectPath: string): string[] {
    const btf = btfStruct(objectPath, this.cName);
    const problems: string[] = [];
    if (btf.size !== this.size) problems.push(`${this.cName}: size ${btf.size} in C, ${this.size} here`);
    if (btf.members.length !== this.fields.length) {
      problems.push(`${this.cName}: ${btf.members.length} members in C, ${this.fields.length} here`);
    }
    for (const f of this.fields) {
      const m = btf.members.find((x) => x.name === f.name);
      if (!m) problems.push(`${this.cName}.${f.name}: missing in C`);
      else if (m.offset !== f.offset || m.size !== sizeOf(f.kind)) {
        problems.push(`${this.cName}.${f.name}: C has offset ${m.offset} size ${m.size}, here ${f.offset}/${sizeOf(f.kind)}`);
      }
    }
    return problems;
  }
}

export const SESSION_KEY = new StructLayout('xdpfw_session_key', [
  ['family', 'u8'], ['protocol', 'u8'], ['pad', 'u16'], ['src_port', 'u16'], ['dst_port', 'u16'],
  ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'],
] as const);

/**
 * struct xdpfw_flow_key: a session's key in xdpfw_sessions, one entry found by both directions
 * (endpoints in a fixed order: lib/session/entry.ts builds it).
 */
export const FLOW_KEY = new StructLayout('xdpfw_flow_key', [
  ['family', 'u8'], ['protocol', 'u8'], ['pad', 'u16'], ['port', arrayOf('u16', 2)], ['addr', arrayOf('bytes16', 2)],
] as const);

/** struct xdpfw_filter_verdict: one filter's cached verdict (lib/filter/descriptor.ts reads and writes it). */
export const FILTER_VERDICT = new StructLayout('xdpfw_filter_verdict', [
  ['filter_id', 'u32'], ['term_id', 'u16'], ['counter', 'u16'], ['table_id', 'u32'], ['action', 'u8'], ['flags', 'u8'],
  ['reject_reason', 'u8'], ['pad', 'u8'], ['program', 'u32'],
] as const);

/** struct xdpfw_direction_verdicts: one direction's cached input and output filter verdicts. */
export const DIRECTION_VERDICTS = new StructLayout('xdpfw_direction_verdicts', [
  ['input', arrayOf(FILTER_VERDICT, 1)], ['output', arrayOf(FILTER_VERDICT, 1)],
] as const);

/** struct xdpfw_verdict_row: a session's four cached verdicts, the value of xdpfw_verdict_rows (lib/session/verdict-rows.ts writes it). */
export const VERDICT_ROW = new StructLayout('xdpfw_verdict_row', [['dir', arrayOf(DIRECTION_VERDICTS, 2)]] as const);

/** struct xdpfw_tcp_dir: one side's sequence tracking, twice in struct xdpfw_tcp_conn. */
export const TCP_DIR = new StructLayout('xdpfw_tcp_dir', [
  ['td_end', 'u32'], ['td_maxend', 'u32'], ['td_maxwin', 'u32'], ['td_maxack', 'u32'], ['td_scale', 'u8'], ['flags', 'u8'], ['pad', 'u16'],
] as const);

/** struct xdpfw_tcp_conn: a session's TCP connection, at SESSION.offset.tcp of its entry. */
export const TCP_CONN = new StructLayout('xdpfw_tcp_conn', [
  ['state', 'u8'], ['close_reason', 'u8'], ['version', 'u16'], ['closed_s', 'u32'], ['dir', arrayOf(TCP_DIR, 2)],
] as const);

/** struct xdpfw_tcp_settings: `security flow tcp-session` for XDP. */
export const TCP_SETTINGS = new StructLayout('xdpfw_tcp_settings', [['flags', 'u32']] as const);

/** struct xdpfw_egress: both directions' kept next hops (bpf/egress_cache.h); only XDP writes it. */
export const EGRESS = new StructLayout('xdpfw_egress', [['generation', 'u32'], ['dmac', arrayOf('u8', 12)]] as const);

/** struct xdpfw_egress_port (bpf/egress_cache.h): an interface's MAC and kept MTU, a slot of xdpfw_egress_ports (XDP writes it). */
export const EGRESS_PORT = new StructLayout('xdpfw_egress_port', [
  ['lock', arrayOf('u32', 1)], ['ifindex', 'u32'], ['generation', 'u32'], ['mtu', 'u16'], ['smac', arrayOf('u8', 6)],
] as const);

/** struct xdpfw_route_lease (bpf/egress_cache.h): the value of xdpfw_route_lease (lib/routes/route-watch.ts writes it). */
export const ROUTE_LEASE = new StructLayout('xdpfw_route_lease', [['generation', 'u32'], ['flags', 'u32'], ['valid_until_ns', 'u64']] as const);

/**
 * struct xdpfw_session: a session's one entry (lib/session/entry.ts encodes it). Per-direction
 * fields are arrays: [0] client -> server, [1] back (entry.ts names their offsets).
 */
export const SESSION = new StructLayout('xdpfw_session', [
  ['session_id', 'u64'], ['last_seen_ns', 'u64'], ['packets', arrayOf('u64', 2)], ['bytes', arrayOf('u64', 2)],
  ['created_s', 'u32'], ['policy_id', 'u32'], ['ingress_ifindex', arrayOf('u32', 2)], ['zone', arrayOf('u16', 2)],
  ['flags', 'u8'], ['close_flags', 'u8'], ['client_is_first', 'u8'], ['egress_kept', 'u8'], ['verdicts', 'u32'],
  ['lock', arrayOf('u32', 1)], ['tcp', arrayOf(TCP_CONN, 1)], ['egress', arrayOf(EGRESS, 1)],
] as const);

/** struct xdpfw_nat_tuple (bpf/nat_rewrite.h): what one direction's packets of a translated session leave with. */
export const NAT_TUPLE = new StructLayout('xdpfw_nat_tuple', [
  ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'], ['src_port', 'u16'], ['dst_port', 'u16'],
] as const);

/**
 * struct xdpfw_nat_session (bpf/nat_session.h): the value of xdpfw_nat_sessions, one per tuple a
 * translated session's packets arrive with (lib/nat/nat-sessions.ts writes them).
 */
export const NAT_SESSION = new StructLayout('xdpfw_nat_session', [
  ['session', arrayOf(FLOW_KEY, 1)], ['to', arrayOf(NAT_TUPLE, 1)], ['dir', 'u8'], ['swapped', 'u8'], ['pad', 'u16'],
] as const);

/** struct xdpfw_nat_settings (bpf/nat_session.h): the one value of xdpfw_nat_settings. */
export const NAT_SETTINGS = new StructLayout('xdpfw_nat_settings', [['flags', 'u32']] as const);

/** struct xdpfw_filter_term (bpf/filter_terms.h): one term of a residual filter program (lib/filter/programs.ts writes it). */
export const FILTER_TERM = new StructLayout('xdpfw_filter_term', [
  ['verdict', arrayOf(FILTER_VERDICT, 1)], ['conds', 'u32'], ['tcp_flags', arrayOf('u32', 2)], ['dscp', arrayOf('u32', 2)],
  ['icmp_type', arrayOf('u32', 8)], ['icmp_code', arrayOf('u32', 8)], ['length_low', arrayOf('u16', FILTER_LENGTH_RANGES)],
  ['length_high', arrayOf('u16', FILTER_LENGTH_RANGES)], ['ttl', arrayOf('u32', 8)], ['policer', 'u32'],
] as const);

/** struct xdpfw_policer (bpf/filter_terms.h): one token bucket, the value of xdpfw_policers. */
export const POLICER = new StructLayout('xdpfw_policer', [
  ['rate', 'u64'], ['burst', 'u64'], ['fill_ns', 'u64'], ['tokens', 'u64'], ['last_ns', 'u64'], ['lock', arrayOf('u32', 1)], ['pad', 'u32'],
] as const);

/** struct xdpfw_filter_program (bpf/filter_terms.h): a residual filter program, the value of xdpfw_filter_programs. */
export const FILTER_PROGRAM = new StructLayout('xdpfw_filter_program', [
  ['terms', 'u32'], ['pad', 'u32'], ['term', arrayOf(FILTER_TERM, FILTER_PROGRAM_TERMS)],
] as const);

export const IFACE = new StructLayout('xdpfw_iface', [['slot', 'u32'], ['zone_id', 'u16'], ['flags', 'u16']] as const);

export const COUNTER_VALUE = new StructLayout('xdpfw_counter_value', [['packets', 'u64'], ['bytes', 'u64']] as const);

export const RX_META = new StructLayout('xdpfw_rx_meta', [
  ['family', 'u8'], ['protocol', 'u8'], ['tcp_flags', 'u8'], ['icmp_type', 'u8'], ['l3_offset', 'u16'],
  ['l3_len', 'u16'], ['src_port', 'u16'], ['dst_port', 'u16'], ['icmp_code', 'u8'], ['flags', 'u8'], ['mtu', 'u16'],
  ['rx_ns', 'u64'],
] as const);

/** struct xdpfw_fragment_key / xdpfw_fragment (bpf/fragments.h): the datagrams whose later fragments XDP follows. */
export const FRAGMENT_KEY = new StructLayout('xdpfw_fragment_key', [
  ['family', 'u8'], ['protocol', 'u8'], ['pad', 'u16'], ['id', 'u32'], ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'],
] as const);

export const FRAGMENT = new StructLayout('xdpfw_fragment', [
  ['session', arrayOf(SESSION_KEY, 1)], ['first_ns', 'u64'], ['ingress_ifindex', 'u32'], ['head_len', 'u16'], ['state', 'u8'], ['pad', 'u8'],
] as const);

export const ROUTE_QUERY = new StructLayout('xdpfw_route_query', [['table_id', 'u32']] as const);

export const ROUTE_RESULT = new StructLayout('xdpfw_route_result', [['fib_rc', 'u32'], ['ifindex', 'u32'], ['flags', 'u32'], ['pad', 'u32']] as const);

/** struct xdpfw_route_entry (bpf/route_batch.h): one packet's route question and answer in a batched probe. */
export const ROUTE_ENTRY = new StructLayout('xdpfw_route_entry', [
  ['key', arrayOf(SESSION_KEY, 1)], ['table_id', 'u32'], ['tos', 'u8'], ['flags', 'u8'], ['pad', 'u16'], ['fib_rc', 'u32'], ['ifindex', 'u32'],
] as const);

export const META = new StructLayout('xdpfw_meta', [['layout_version', 'u32'], ['reserved', 'u32']] as const);

/** struct xdpfw_event: one security event (lib/events/record.ts reads and writes it). */
export const EVENT = new StructLayout('xdpfw_event', [
  ['version', 'u8'], ['kind', 'u8'], ['family', 'u8'], ['protocol', 'u8'], ['action', 'u8'], ['close_reason', 'u8'],
  ['filter_source', 'u8'], ['icmp_type', 'u8'], ['src_port', 'u16'], ['dst_port', 'u16'], ['ingress_zone', 'u16'],
  ['egress_zone', 'u16'], ['ingress_ifindex', 'u32'], ['egress_ifindex', 'u32'], ['policy_id', 'u32'], ['filter_id', 'u32'],
  ['term_id', 'u32'], ['screen_id', 'u32'], ['elapsed_s', 'u32'], ['pad', 'u32'], ['timestamp_ns', 'u64'],
  ['monotonic_ns', 'u64'], ['session_id', 'u64'], ['packets_from_client', 'u64'], ['bytes_from_client', 'u64'],
  ['packets_from_server', 'u64'], ['bytes_from_server', 'u64'], ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'],
] as const);

/** struct xdpfw_screen_profile: one zone's screens (lib/screens/apply.ts writes it). */
export const SCREEN_PROFILE = new StructLayout('xdpfw_screen_profile', [
  ['screens', 'u64'], ['flags', 'u32'], ['syn_attack', 'u32'], ['syn_alarm', 'u32'], ['syn_source', 'u32'],
  ['syn_destination', 'u32'], ['icmp_flood', 'u32'], ['udp_flood', 'u32'], ['port_scan_us', 'u32'], ['ip_sweep_us', 'u32'],
  ['tcp_sweep_us', 'u32'], ['udp_sweep_us', 'u32'], ['udp_port_scan_us', 'u32'], ['ipv6_ext_headers', 'u32'], ['ipv6_ext_limit', 'u32'],
  ['syn_ack_ack_proxy', 'u32'], ['pad', 'u32'], ['ipv6_hbh_options', arrayOf('u64', 4)], ['ipv6_dst_options', arrayOf('u64', 4)],
  ['ipv6_header_types', arrayOf('u64', 4)],
] as const);

/** struct xdpfw_screen_allow_key: a syn-flood white-list prefix, the key of xdpfw_screen_allow (lib/screens/white-list.ts). */
export const SCREEN_ALLOW_KEY = new StructLayout('xdpfw_screen_allow_key', [
  ['prefixlen', 'u32'], ['zone', 'u16'], ['family', 'u8'], ['direction', 'u8'], ['addr', 'bytes16'],
] as const);

/** struct xdpfw_proxy_key: a source in a zone, the key of xdpfw_proxy_pending (lib/screens/syn-ack-ack-proxy.ts). */
export const PROXY_KEY = new StructLayout('xdpfw_proxy_key', [
  ['zone', 'u16'], ['family', 'u8'], ['pad', 'u8'], ['addr', 'bytes16'],
] as const);

/** struct xdpfw_screen_counter: per-CPU counts of one (zone, screen) (lib/screens/stats.ts reads them). */
export const SCREEN_COUNTER = new StructLayout('xdpfw_screen_counter', [
  ['drops', 'u64'], ['alarms', 'u64'], ['events_suppressed', 'u64'],
] as const);

/** struct xdpfw_vlan_unit_key (bpf/vlan_units.h), the key of xdpfw_vlan_units (lib/dataplane/vlan-units.ts writes it). */
export const VLAN_UNIT_KEY = new StructLayout('xdpfw_vlan_unit_key', [['ifindex', 'u32'], ['vlan_id', 'u16'], ['pad', 'u16']] as const);

/** struct xdpfw_neigh_proxy_key and xdpfw_neigh_proxy (bpf/neigh_proxy.h): an address proxy-arp /
 * proxy-ndp answers for on an interface, and the MAC it answers with (lib/nat/neighbor-proxy-map.ts). */
export const NEIGH_PROXY_KEY = new StructLayout('xdpfw_neigh_proxy_key', [
  ['ifindex', 'u32'], ['family', 'u8'], ['pad', arrayOf('u8', 3)], ['addr', 'bytes16'],
] as const);
export const NEIGH_PROXY = new StructLayout('xdpfw_neigh_proxy', [['mac', arrayOf('u8', 6)], ['pad', 'u16']] as const);

export const ALL_LAYOUTS = [SESSION_KEY, FLOW_KEY, SESSION, EGRESS_PORT, DIRECTION_VERDICTS, VERDICT_ROW, TCP_CONN, TCP_DIR, TCP_SETTINGS, FILTER_VERDICT, FILTER_TERM, FILTER_PROGRAM, POLICER, IFACE, COUNTER_VALUE, RX_META,
  ROUTE_QUERY, ROUTE_RESULT, ROUTE_ENTRY, META, EVENT, SCREEN_PROFILE, SCREEN_ALLOW_KEY, PROXY_KEY, SCREEN_COUNTER, FRAGMENT_KEY, FRAGMENT, VLAN_UNIT_KEY,
  EGRESS, ROUTE_LEASE,
  NEIGH_PROXY_KEY, NEIGH_PROXY, NAT_TUPLE, NAT_SESSION, NAT_SETTINGS];

/** Values the C side defines as enums; read from BTF, never copied here. */
export interface DataplaneConstants {
  layoutVersion: number;
  maxIfaces: number;
  /** Slots of xdpfw_egress_ports (an array indexed by ifindex modulo this). */
  egressPortSlots: number;
  maxQueues: number;
  /** Rows of xdpfw_verdict_rows (row 0: no filter). */
  maxVerdictRows: number;
  /** UMEM frame size of the slow path's AF_XDP sockets. */
  xskFrameSize: number;
  /** The largest frame XDP hands to the slow path; larger ones are dropped as DROP_TOO_BIG. */
  slowPathMaxFrame: number;
  /** The largest frame one UMEM frame holds: all a socket without multi-buffer takes. */
  xskFrameData: number;
  sessionFlags: { local: number; boxConnection: number; nat: number };
  /** XDPFW_NAT_ACTIVE of enum xdpfw_nat_flags: the config translates. */
  natActive: number;
  /** enum xdpfw_tcp_state, enum xdpfw_close_reason and the flags of TCP tracking. */
  tcp: TcpCodes;
  /** Counter index by name, e.g. 'FAST_FORWARD' → 0 (prefix XDPFW_CNT_ removed). */
  counters: Map<string, number>;
}

export interface TcpCodes {
  /** enum xdpfw_tcp_state members (C names). */
  states: Record<string, number>;
  /** enum xdpfw_close_reason members (C names). */
  closeReasons: Record<string, number>;
  /** XDPFW_CLOSE_EVENT_WRITTEN of enum xdpfw_close_flags. */
  closeEventWritten: number;
  /** XDPFW_TCP_DIR_HANDSHAKE_ONLY of enum xdpfw_tcp_dir_flags (the client side's flags). */
  handshakeOnly: number;
  /** XDPFW_TCP_DIR_LIBERAL of enum xdpfw_tcp_dir_flags: a side picked up mid-stream, windows not enforced. */
  liberal: number;
  /** enum xdpfw_tcp_settings_flags. */
  noSynCheck: number;
  noSequenceCheck: number;
}

export function readConstants(objectPath: string): DataplaneConstants {
  const c = btfEnum(objectPath, 'xdpfw_constants');
  const flags = btfEnum(objectPath, 'xdpfw_session_flags');
  const counters = new Map<string, number>();
  for (const [name, value] of Object.entries(btfEnum(objectPath, 'xdpfw_counter'))) {
    if (name !== 'XDPFW_CNT__MAX') counters.set(name.replace(/^XDPFW_CNT_/, ''), value);
  }
  const need = (rec: Record<string, number>, name: string): number => {
    const v = rec[name];
    if (v === undefined) throw new Error(`BPF object ${objectPath} lacks ${name}`);
    return v;
  };
  return {
    layoutVersion: need(c, 'XDPFW_LAYOUT_VERSION'),
    maxIfaces: need(c, 'XDPFW_MAX_IFACES'),
    egressPortSlots: need(c, 'XDPFW_EGRESS_PORT_SLOTS'),
    maxQueues: need(c, 'XDPFW_MAX_QUEUES'),
    maxVerdictRows: need(c, 'XDPFW_MAX_VERDICT_ROWS'),
    xskFrameSize: need(c, 'XDPFW_XSK_FRAME_SIZE'),
    slowPathMaxFrame: need(c, 'XDPFW_SLOW_PATH_MAX_FRAME'),
    xskFrameData: need(c, 'XDPFW_XSK_FRAME_DATA'),
    sessionFlags: {
      local: need(flags, 'XDPFW_SESS_LOCAL'), boxConnection: need(flags, 'XDPFW_SESS_BOX_CONNECTION'),
      nat: need(flags, 'XDPFW_SESS_NAT'),
    },
    natActive: need(btfEnum(objectPath, 'xdpfw_nat_flags'), 'XDPFW_NAT_ACTIVE'),
    counters,
    tcp: {
      states: btfEnum(objectPath, 'xdpfw_tcp_state'),
      closeReasons: btfEnum(objectPath, 'xdpfw_close_reason'),
      closeEventWritten: need(btfEnum(objectPath, 'xdpfw_close_flags'), 'XDPFW_CLOSE_EVENT_WRITTEN'),
      handshakeOnly: need(btfEnum(objectPath, 'xdpfw_tcp_dir_flags'), 'XDPFW_TCP_DIR_HANDSHAKE_ONLY'),
      liberal: need(btfEnum(objectPath, 'xdpfw_tcp_dir_flags'), 'XDPFW_TCP_DIR_LIBERAL'),
      noSynCheck: need(btfEnum(objectPath, 'xdpfw_tcp_settings_flags'), 'XDPFW_TCP_NO_SYN_CHECK'),
      noSequenceCheck: need(btfEnum(objectPath, 'xdpfw_tcp_settings_flags'), 'XDPFW_TCP_NO_SEQUENCE_CHECK'),
    },
  };
}

/** Throws with every difference when TypeScript and C disagree. */
export function verifyLayouts(objectPath: string): void {
  const limits = btfEnum(objectPath, 'xdpfw_filter_program_limits');
  const expected: Record<string, number> = {
    XDPFW_FILTER_PROGRAM_TERMS: FILTER_PROGRAM_TERMS, XDPFW_FILTER_LENGTH_RANGES: FILTER_LENGTH_RANGES,
    XDPFW_MAX_FILTER_PROGRAMS: MAX_FILTER_PROGRAMS, XDPFW_FILTER_PROGRAM_SLOW_PATH: FILTER_PROGRAM_SLOW_PATH,
    XDPFW_MAX_POLICERS: MAX_POLICERS,
  };
  const problems = [
    ...Object.entries(expected).filter(([k, v]) => limits[k] !== v).map(([k, v]) => `${k}: ${limits[k]} in C, ${v} here`),
    ...ALL_LAYOUTS.flatMap((l) => l.diff(objectPath)),
  ];
  if (problems.length > 0) {
    throw new Error(`layout mismatch between ${objectPath} and lib/dataplane/layout.ts:\n  ${problems.join('\n  ')}`);
  }
}
