import type { Family } from '../config/family.js';
import { AddressIndex } from './address-index.js';
import { formatAddress } from './addr.js';
import { translatesPorts } from './match.js';
import { MAX_POOL_ADDRESSES, type PortRange, type SourcePool } from './types.js';

/**
 * Source NAT allocation of translated addresses and ports.
 *
 * Port overloading is global per protocol (as Junos does by default): a translated
 * (address, port) of a protocol belongs to one live flow at a time, whatever its
 * destination, so no two live flows can share a translated (address, port, protocol,
 * destination) tuple, and a reply names its flow by (address, port, protocol) alone. ICMP
 * echo identifiers are allocated as ports. Protocols without ports (GRE, ESP, ...) keep an
 * address per (protocol, address, destination) for one inside host.
 *
 * Every allocate and free is O(1) however full the pool is: per address, ports never handed
 * out are taken first, from a counter, then released ones from a FIFO queue (the oldest
 * release first, so a closed flow's tuple rests as long as possible); addresses that still have
 * ports sit in an array walked round robin, left in O(1) when full and rejoined on a free.
 */

/** Why a flow got no translation: the pool (and its overflow) has nothing left for it. */
export type AllocationRefusal =
  /** Every address and port of the pool is in use for this protocol. */
  | 'pool-exhausted'
  /** address-persistent: the host's address has no port left, and it may not take another. */
  | 'persistent-address-exhausted'
  /** host-address-base: the host is outside the range mapped onto the pool. */
  | 'host-outside-base';

export interface SourceLease {
  pool: string;
  family: Family;
  protocol: number;
  /** The inside host (original source address). */
  host: bigint;
  address: bigint;
  port: number;
  /** Protocols without ports: the destination the address is held for. */
  destination: bigint;
  /** Position of `address` in its pool. */
  readonly index: number;
}

export type Allocation = { ok: true; lease: SourceLease } | { ok: false; reason: AllocationRefusal; message: string };

export interface AllocationRequest {
  protocol: number;
  host: bigint;
  sourcePort: number;
  destination: bigint;
}


/** A FIFO of released ports, O(1) amortised. */
class PortQueue {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(port: number): void {
    this.items.push(port);
  }

  shift(): number {
    const port = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return port;
  }
}

/** Port state of one protocol across the pool's addresses. */
class ProtocolPorts {
  /** Next never-used port of each address. */
  private readonly fresh: Int32Array;
  private readonly released: (PortQueue | undefined)[];
  readonly used: Int32Array;
  /** One bit per port in use, per address (allocated on first use). */
  private readonly bits: (Uint32Array | undefined)[];
  /** Addresses with a free port, and where each is in that array (-1: full). */
  private readonly open: Int32Array;
  private readonly openAt: Int32Array;
  private openCount: number;
  private cursor = 0;
  readonly perAddress: number;

  constructor(size: number, private readonly ports: PortRange) {
    this.perAddress = ports.high - ports.low + 1;
    this.fresh = new Int32Array(size).fill(ports.low);
    this.released = new Array<PortQueue | undefined>(size);
    this.used = new Int32Array(size);
    this.bits = new Array<Uint32Array | undefined>(size);
    this.open = new Int32Array(size);
    this.openAt = new Int32Array(size);
    for (let i = 0; i < size; i++) this.open[i] = this.openAt[i] = i;
    this.openCount = size;
  }

  /** The next address round robin that has a free port, or -1. */
  nextOpen(): number {
    if (this.openCount === 0) return -1;
    if (this.cursor >= this.openCount) this.cursor = 0;
    return this.open[this.cursor++];
  }

  hasFree(i: number): boolean {
    return this.used[i] < this.perAddress;
  }

  take(i: number): number {
    // Never-used ports first; then the one released longest ago.
    const port = this.fresh[i] <= this.ports.high ? this.fresh[i]++ : this.released[i]!.shift();
    const bits = (this.bits[i] ??= new Uint32Array(Math.ceil(this.perAddress / 32)));
    const bit = port - this.ports.low;
    bits[bit >>> 5] |= 1 << (bit & 31);
    if (++this.used[i] === this.perAddress) this.close(i);
    return port;
  }

  /** False when the port was not in use (a second free). */
  release(i: number, port: number): boolean {
    const bits = this.bits[i];
    const bit = port - this.ports.low;
    if (!bits || bit < 0 || bit >= this.perAddress || (bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    bits[bit >>> 5] &= ~(1 << (bit & 31));
    if (this.used[i]-- === this.perAddress) this.reopen(i);
    (this.released[i] ??= new PortQueue()).push(port);
    return true;
  }

  private close(i: number): void {
    const at = this.openAt[i];
    const last = this.open[--this.openCount];
    this.open[at] = last;
    this.openAt[last] = at;
    this.openAt[i] = -1;
  }

  private reopen(i: number): void {
    this.open[this.openCount] = i;
    this.openAt[i] = this.openCount++;
  }
}

/** A host's pool address, held while it has flows (address-persistent and no-translation pools). */
interface Binding {
  index: number;
  flows: number;
}

/** One source pool's allocator: port overloading, or one address per host (`port no-translation`). */
export class PoolAllocator {
  readonly addresses: AddressIndex;
  private readonly protocols = new Map<number, ProtocolPorts>();
  private readonly portless = new Map<string, bigint>();
  private portlessCursor = 0;
  private readonly bindings = new Map<bigint, Binding>();
  /** no-translation: addresses no host holds, FIFO. */
  private readonly idle: PortQueue;

  constructor(readonly pool: SourcePool) {
    this.addresses = new AddressIndex(pool.ranges, MAX_POOL_ADDRESSES);
    this.idle = new PortQueue();
    if (pool.ports === null) for (let i = 0; i < this.addresses.size; i++) this.idle.push(i);
  }

  /** A translated source for a new flow; the lease must be freed when the flow ends. */
  allocate(req: AllocationRequest): Allocation {
    if (this.pool.ports === null) return this.addressOnly(req);
    if (!translatesPorts(req.protocol)) return this.portlessAllocate(req);
    const ports = this.portsOf(req.protocol);
    const bound = this.pool.addressPersistent ? this.bindings.get(req.host) : undefined;
    let i: number;
    if (bound) {
      i = bound.index;
      if (!ports.hasFree(i)) return this.refuse('persistent-address-exhausted', `pool '${this.pool.name}': the persistent address ${formatAddress(this.addresses.family, this.addresses.at(i))} of this host has no free port`);
    } else {
      i = ports.nextOpen();
      if (i < 0) return this.refuse('pool-exhausted', `pool '${this.pool.name}' has no free address and port for protocol ${req.protocol}`);
    }
    const port = ports.take(i);
    this.bind(req.host, i);
    return { ok: true, lease: this.lease(req, i, port) };
  }

  /** Gives a lease back; false if it was not live (freed twice, or another pool's). */
  free(lease: SourceLease): boolean {
    if (lease.pool !== this.pool.name) return false;
    if (this.pool.ports === null) return this.release(lease.host, lease.index);
    if (!translatesPorts(lease.protocol)) {
      const key = portlessKey(lease.protocol, lease.index, lease.destination);
      if (this.portless.get(key) !== lease.host) return false;
      this.portless.delete(key);
    } else if (!this.protocols.get(lease.protocol)?.release(lease.index, lease.port)) {
      return false;
    }
    if (this.pool.addressPersistent) this.release(lease.host, lease.index);
    return true;
  }

  /** Leases live for a protocol (for `show nat source pool`). */
  inUse(protocol: number): number {
    const ports = this.protocols.get(protocol);
    if (this.pool.ports === null) return this.addresses.size - this.idle.length;
    if (!translatesPorts(protocol)) return [...this.portless.keys()].filter((k) => k.startsWith(`${protocol}|`)).length;
    return ports ? ports.used.reduce((a, b) => a + b, 0) : 0;
  }

  private portsOf(protocol: number): ProtocolPorts {
    let p = this.protocols.get(protocol);
    if (!p) this.protocols.set(protocol, (p = new ProtocolPorts(this.addresses.size, this.pool.ports!)));
    return p;
  }

  private addressOnly(req: AllocationRequest): Allocation {
    const bound = this.bindings.get(req.host);
    if (bound) {
      bound.flows++;
      return { ok: true, lease: this.lease(req, bound.index, req.sourcePort) };
    }
    let i: number;
    if (this.pool.hostAddressBase !== null) {
      const offset = req.host - this.pool.hostAddressBase;
      if (offset < 0n || offset >= BigInt(this.addresses.size)) {
        return this.refuse('host-outside-base', `pool '${this.pool.name}': host ${formatAddress(this.addresses.family, req.host)} is outside the ${this.addresses.size} hosts from host-address-base`);
      }
      i = Number(offset);
    } else {
      if (this.idle.length === 0) return this.refuse('pool-exhausted', `pool '${this.pool.name}': every address is held by another host`);
      i = this.idle.shift();
    }
    this.bindings.set(req.host, { index: i, flows: 1 });
    return { ok: true, lease: this.lease(req, i, req.sourcePort) };
  }

  /** Round robin over addresses for a (protocol, destination) no other host holds there; bounded by the pool size. */
  private portlessAllocate(req: AllocationRequest): Allocation {
    const bound = this.pool.addressPersistent ? this.bindings.get(req.host) : undefined;
    const n = this.addresses.size;
    for (let k = 0; k < (bound ? 1 : n); k++) {
      const i = bound ? bound.index : (this.portlessCursor + k) % n;
      const key = portlessKey(req.protocol, i, req.destination);
      if (this.portless.has(key)) continue;
      this.portless.set(key, req.host);
      if (!bound) this.portlessCursor = (i + 1) % n;
      this.bind(req.host, i);
      return { ok: true, lease: this.lease(req, i, 0) };
    }
    return this.refuse(bound ? 'persistent-address-exhausted' : 'pool-exhausted', `pool '${this.pool.name}': no address free toward this destination for protocol ${req.protocol}`);
  }

  private bind(host: bigint, i: number): void {
    if (!this.pool.addressPersistent) return;
    const b = this.bindings.get(host);
    if (b) b.flows++;
    else this.bindings.set(host, { index: i, flows: 1 });
  }

  /** One flow fewer on the host's address; with its last flow the host lets it go (false: it held none). */
  private release(host: bigint, i: number): boolean {
    const b = this.bindings.get(host);
    if (!b || b.index !== i) return false;
    if (--b.flows > 0) return true;
    this.bindings.delete(host);
    if (this.pool.ports === null && this.pool.hostAddressBase === null) this.idle.push(i);
    return true;
  }

  private lease(req: AllocationRequest, i: number, port: number): SourceLease {
    return { pool: this.pool.name, family: this.addresses.family, protocol: req.protocol, host: req.host, address: this.addresses.at(i), port, destination: req.destination, index: i };
  }

  private refuse(reason: AllocationRefusal, message: string): Allocation {
    return { ok: false, reason, message };
  }
}

function portlessKey(protocol: number, index: number, destination: bigint): string {
  return `${protocol}|${index}|${destination}`;
}
