// TypeScript's view of the layouts defined in bpf/xdpfw.h. Offsets follow
// the C alignment rules; verifyLayouts() compares them with the BTF of the
// compiled object, so the two can never silently drift apart.
import { btfEnum, btfStruct } from './native.js';

type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes16';

const KIND_SIZE: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes16: 16 };
const KIND_ALIGN: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes16: 4 };

export class StructLayout<F extends string> {
  readonly size: number;
  readonly offset: Readonly<Record<F, number>>;
  private readonly fields: ReadonlyArray<{ name: F; kind: FieldKind; offset: number }>;

  constructor(readonly cName: string, spec: ReadonlyArray<readonly [F, FieldKind]>) {
    let at = 0;
    let align = 1;
    const fields: Array<{ name: F; kind: FieldKind; offset: number }> = [];
    for (const [name, kind] of spec) {
      const a = KIND_ALIGN[kind];
      at = Math.ceil(at / a) * a;
      fields.push({ name, kind, offset: at });
      at += KIND_SIZE[kind];
      align = Math.max(align, a);
    }
    this.size = Math.ceil(at / align) * align;
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
      else if (m.offset !== f.offset || m.size !== KIND_SIZE[f.kind]) {
        problems.push(`${this.cName}.${f.name}: C has offset ${m.offset} size ${m.size}, here ${f.offset}/${KIND_SIZE[f.kind]}`);
      }
    }
    return problems;
  }
}

export const SESSION_KEY = new StructLayout('xdpfw_session_key', [
  ['family', 'u8'], ['protocol', 'u8'], ['pad', 'u16'], ['src_port', 'u16'], ['dst_port', 'u16'],
  ['src_addr', 'bytes16'], ['dst_addr', 'bytes16'],
] as const);

export const SESSION = new StructLayout('xdpfw_session', [
  ['session_id', 'u64'], ['created_ns', 'u64'], ['last_seen_ns', 'u64'], ['packets', 'u64'], ['bytes', 'u64'],
  ['policy_id', 'u32'], ['ingress_ifindex', 'u32'], ['from_zone', 'u16'], ['to_zone', 'u16'],
  ['flags', 'u8'], ['tcp_state', 'u8'], ['pad', 'u16'], ['input', 'bytes16'], ['output', 'bytes16'],
] as const);

/** struct xdpfw_filter_verdict: one filter's cached verdict (lib/filter/descriptor.ts reads and writes it). */
export const FILTER_VERDICT = new StructLayout('xdpfw_filter_verdict', [
  ['filter_id', 'u32'], ['term_id', 'u16'], ['counter', 'u16'], ['table_id', 'u32'], ['action', 'u8'], ['flags', 'u8'],
  ['reject_reason', 'u8'], ['pad', 'u8'],
] as const);

export const IFACE = new StructLayout('xdpfw_iface', [['slot', 'u32'], ['zone_id', 'u16'], ['flags', 'u16']] as const);

export const COUNTER_VALUE = new StructLayout('xdpfw_counter_value', [['packets', 'u64'], ['bytes', 'u64']] as const);

export const RX_META = new StructLayout('xdpfw_rx_meta', [
  ['family', 'u8'], ['protocol', 'u8'], ['tcp_flags', 'u8'], ['icmp_type', 'u8'], ['l3_offset', 'u16'],
  ['l3_len', 'u16'], ['src_port', 'u16'], ['dst_port', 'u16'], ['icmp_code', 'u8'], ['pad', 'u8'], ['reserved', 'u16'],
] as const);

export const ROUTE_QUERY = new StructLayout('xdpfw_route_query', [['table_id', 'u32']] as const);

export const ROUTE_RESULT = new StructLayout('xdpfw_route_result', [['fib_rc', 'u32'], ['ifindex', 'u32'], ['flags', 'u32'], ['pad', 'u32']] as const);

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
  ['screens', 'u32'], ['flags', 'u32'], ['syn_attack', 'u32'], ['syn_alarm', 'u32'], ['syn_source', 'u32'],
  ['syn_destination', 'u32'], ['icmp_flood', 'u32'], ['udp_flood', 'u32'], ['port_scan_us', 'u32'], ['ip_sweep_us', 'u32'],
] as const);

/** struct xdpfw_screen_counter: per-CPU counts of one (zone, screen) (lib/screens/stats.ts reads them). */
export const SCREEN_COUNTER = new StructLayout('xdpfw_screen_counter', [
  ['drops', 'u64'], ['alarms', 'u64'], ['events_suppressed', 'u64'],
] as const);

export const ALL_LAYOUTS = [SESSION_KEY, SESSION, FILTER_VERDICT, IFACE, COUNTER_VALUE, RX_META, ROUTE_QUERY, ROUTE_RESULT, META, EVENT, SCREEN_PROFILE, SCREEN_COUNTER];

/** Values the C side defines as enums; read from BTF, never copied here. */
export interface DataplaneConstants {
  layoutVersion: number;
  maxIfaces: number;
  maxQueues: number;
  /** UMEM frame size of the slow path's AF_XDP sockets. */
  xskFrameSize: number;
  /** The largest frame XDP hands to the slow path; larger ones are dropped as DROP_TOO_BIG. */
  slowPathMaxFrame: number;
  /** The largest frame one UMEM frame holds: all a socket without multi-buffer takes. */
  xskFrameData: number;
  sessionFlags: { reverse: number; local: number; boxConnection: number };
  /** Counter index by name, e.g. 'FAST_FORWARD' → 0 (prefix XDPFW_CNT_ removed). */
  counters: Map<string, number>;
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
    maxQueues: need(c, 'XDPFW_MAX_QUEUES'),
    xskFrameSize: need(c, 'XDPFW_XSK_FRAME_SIZE'),
    slowPathMaxFrame: need(c, 'XDPFW_SLOW_PATH_MAX_FRAME'),
    xskFrameData: need(c, 'XDPFW_XSK_FRAME_DATA'),
    sessionFlags: {
      reverse: need(flags, 'XDPFW_SESS_REVERSE'), local: need(flags, 'XDPFW_SESS_LOCAL'), boxConnection: need(flags, 'XDPFW_SESS_BOX_CONNECTION'),
    },
    counters,
  };
}

/** Throws with every difference when TypeScript and C disagree. */
export function verifyLayouts(objectPath: string): void {
  const problems = ALL_LAYOUTS.flatMap((l) => l.diff(objectPath));
  if (problems.length > 0) {
    throw new Error(`layout mismatch between ${objectPath} and lib/dataplane/layout.ts:\n  ${problems.join('\n  ')}`);
  }
}
