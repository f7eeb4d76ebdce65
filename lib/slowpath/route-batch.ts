// Routes of a batch of first packets with one plain BPF_PROG_RUN:
// xdpfw_route_batch (bpf/route_batch.h) runs bpf_fib_lookup (and the box
// connection check) for each entry in place. The answers are the ones
// xdpfw_route gives for the same packets; RouteProbe stays for the single
// lookups (a policy-routed table, a session's packet).
import { ROUTE_ENTRY, SESSION_KEY } from '../dataplane/layout.js';
import { btfEnum, progRunInto } from '../dataplane/native.js';
import { FIB_NOT_FWDED, FIB_NO_NEIGH, FIB_SUCCESS, XDP_PASS } from '../dataplane/xdp-abi.js';
import type { Route } from './route-probe.js';

/** XDPFW_ROUTE_BATCH_MAX (enum xdpfw_route_batch_limits), checked by verifyRouteBatch(). */
export const ROUTE_BATCH_MAX = 56;
/** enum xdpfw_route_flags: XDPFW_ROUTE_BOX_CONNECTION (route-probe.ts checks it). */
const BOX_CONNECTION = 1;

export function verifyRouteBatch(objectPath: string): void {
  const c = btfEnum(objectPath, 'xdpfw_route_batch_limits').XDPFW_ROUTE_BATCH_MAX;
  if (c !== ROUTE_BATCH_MAX) throw new Error(`XDPFW_ROUTE_BATCH_MAX is ${c} in ${objectPath}, ${ROUTE_BATCH_MAX} in lib/slowpath/route-batch.ts`);
}

const E = ROUTE_ENTRY.offset;
const NO_ROUTE: Route = Object.freeze({ local: false, boxConnection: false, egress: 0, resolved: false });
const LOCAL: Route = Object.freeze({ local: true, boxConnection: false, egress: 0, resolved: false });
const BOX_REPLY: Route = Object.freeze({ local: true, boxConnection: true, egress: 0, resolved: false });

/** Questions one RouteBatch holds: a receive batch's; more than one run takes are asked in several. */
export const ROUTE_BATCH_CAPACITY = 64;

export class RouteBatch {
  private readonly entries = Buffer.alloc(ROUTE_BATCH_CAPACITY * ROUTE_ENTRY.size);
  private readonly entryBytes = new Uint8Array(this.entries.buffer, this.entries.byteOffset, this.entries.length);
  private readonly answers = Buffer.alloc(ROUTE_BATCH_CAPACITY * ROUTE_ENTRY.size);
  /** Routes of the last resolve(), by slot. */
  private readonly routes: Route[] = new Array<Route>(ROUTE_BATCH_CAPACITY).fill(NO_ROUTE);
  private count = 0;
  private readonly answered = new Uint32Array(1);
  /** Kernel calls made and entries answered, for the counters. */
  readonly stats = { runs: 0, entries: 0 };

  constructor(private readonly prog: number) {}

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === ROUTE_BATCH_CAPACITY;
  }

  clear(): void {
    this.count = 0;
  }

  /** Queues the route question of a packet with this session key; returns its slot. */
  add(key: Uint8Array, table: number, tos: number): number {
    const at = this.count * ROUTE_ENTRY.size;
    const e = this.entryBytes;
    e.fill(0, at, at + ROUTE_ENTRY.size);
    // Byte by byte: a view of the key (subarray) cost more than the copy.
    for (let i = 0; i < SESSION_KEY.size; i++) e[at + E.key + i] = key[i]!;
    this.entries.writeUInt32LE(table, at + E.table_id);
    this.entries[at + E.tos] = tos;
    return this.count++;
  }

  /**
   * Answers every queued question, for packets that arrived at `ifindex` / `rxQueue`: one run per
   * ROUTE_BATCH_MAX questions.
   */
  resolve(ifindex: number, rxQueue: number): void {
    for (let first = 0; first < this.count; first += ROUTE_BATCH_MAX) {
      const n = Math.min(ROUTE_BATCH_MAX, this.count - first);
      const at = first * ROUTE_ENTRY.size;
      const bytes = n * ROUTE_ENTRY.size;
      const retval = progRunInto(this.prog, this.entries, at, bytes, ifindex, rxQueue, this.answers.subarray(at), this.answered);
      this.stats.runs++;
      this.stats.entries += n;
      const ok = retval === XDP_PASS && this.answered[0]! >= bytes;
      for (let i = first; i < first + n; i++) this.routes[i] = ok ? this.decode(i) : NO_ROUTE;
    }
  }

  route(slot: number): Route {
    return this.routes[slot]!;
  }

  private decode(slot: number): Route {
    const at = slot * ROUTE_ENTRY.size;
    const a = this.answers;
    const rc = a.readUInt32LE(at + E.fib_rc);
    if (rc === FIB_NOT_FWDED) return a[at + E.flags]! & BOX_CONNECTION ? BOX_REPLY : LOCAL;
    if (rc !== FIB_SUCCESS && rc !== FIB_NO_NEIGH) return NO_ROUTE;
    return { local: false, boxConnection: false, egress: a.readUInt32LE(at + E.ifindex), resolved: rc === FIB_SUCCESS };
  }
}
