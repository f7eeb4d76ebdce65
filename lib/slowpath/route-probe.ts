// Where the kernel would send a packet: xdpfw_route runs bpf_fib_lookup on
// it through plain BPF_PROG_RUN (no side effects) and prepends the result.
// The query in front of the frame names the routing table (policy-based
// routing); 0 follows the kernel's rules from the main table.
import { ROUTE_QUERY, ROUTE_RESULT } from '../dataplane/layout.js';
import { EnumCodec } from '../dataplane/enum-codec.js';
import { progTestRun } from '../dataplane/native.js';
import { FIB_NOT_FWDED, FIB_NO_NEIGH, FIB_SUCCESS, XDP_PASS } from '../dataplane/xdp-abi.js';

/** The query and a frame of at most the largest an AF_XDP socket assembles (a jumbo frame). */
const QUERY_MAX = 4 + 32768;

/** enum xdpfw_route_flags, checked against the object by verifyRouteFlags(). */
const BOX_CONNECTION = 1;

export interface Route {
  /** Addressed to the box itself. */
  local: boolean;
  /** Local, and answering a connection the box opened (a connected socket of the box has its tuple). */
  boxConnection: boolean;
  /** Egress ifindex; 0 with `local` false: no usable route. */
  egress: number;
  /** The next hop's neighbour is known: XDP can forward it without the kernel. */
  resolved: boolean;
}

const NO_ROUTE: Route = Object.freeze({ local: false, boxConnection: false, egress: 0, resolved: false });
const LOCAL: Route = Object.freeze({ local: true, boxConnection: false, egress: 0, resolved: false });
const BOX_REPLY: Route = Object.freeze({ local: true, boxConnection: true, egress: 0, resolved: false });

export function verifyRouteFlags(objectPath: string): void {
  const c = new EnumCodec(objectPath, 'xdpfw_route_flags', 'XDPFW_ROUTE_', ['box-connection'] as const).value('box-connection');
  if (c !== BOX_CONNECTION) throw new Error(`XDPFW_ROUTE_BOX_CONNECTION is ${c} in ${objectPath}, ${BOX_CONNECTION} in lib/slowpath/route-probe.ts`);
}

export class RouteProbe {
  private readonly query = Buffer.alloc(QUERY_MAX);
  private readonly result = Buffer.alloc(QUERY_MAX + ROUTE_RESULT.size);

  constructor(private readonly prog: number) {}

  /**
   * The route of the frame at bytes[at, at + length) arriving at `ifindex` (queue `rxQueue`),
   * looked up in `table` (0: main).
   */
  lookup(bytes: Buffer, at: number, length: number, ifindex: number, rxQueue: number, table = 0): Route {
    const size = ROUTE_QUERY.size + length;
    if (size > this.query.length) return NO_ROUTE;
    this.query.writeUInt32LE(table, ROUTE_QUERY.offset.table_id);
    bytes.copy(this.query, ROUTE_QUERY.size, at, at + length);
    const res = this.result;
    const out = progTestRun(this.prog, { data: this.query, length: size, ifindex, rxQueue, into: res });
    if (out.retval !== XDP_PASS || (out.dataOutLength ?? 0) < ROUTE_RESULT.size) return NO_ROUTE;
    const rc = res.readUInt32LE(ROUTE_RESULT.offset.fib_rc);
    if (rc === FIB_NOT_FWDED) return res.readUInt32LE(ROUTE_RESULT.offset.flags) & BOX_CONNECTION ? BOX_REPLY : LOCAL;
    if (rc === FIB_SUCCESS || rc === FIB_NO_NEIGH) {
      return { local: false, boxConnection: false, egress: res.readUInt32LE(ROUTE_RESULT.offset.ifindex), resolved: rc === FIB_SUCCESS };
    }
    return NO_ROUTE;
  }
}
