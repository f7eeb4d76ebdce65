import type { Family } from '../config/family.js';
import { formatAddress } from './addr.js';
import { PoolAllocator, type Allocation, type AllocationRequest, type SourceLease } from './allocator.js';
import type { NatConfig, PortRange } from './types.js';

/**
 * The source pools of a configuration, and the egress interfaces' addresses that
 * `source-nat interface` (and `overflow-pool interface`) overload. A pool that is exhausted
 * hands the flow to its overflow pool, in turn; the refusal of the last one is returned.
 */
export class SourcePools {
  private readonly pools = new Map<string, PoolAllocator>();
  private readonly interfaces = new Map<string, PoolAllocator>();
  private readonly interfacePorts: PortRange;

  constructor(nat: NatConfig) {
    for (const p of nat.source.pools) this.pools.set(p.name, new PoolAllocator(p));
    this.interfacePorts = nat.source.defaultPorts;
  }

  /** From pool `name` (then its overflow); `egress` is the egress interface's address for `overflow-pool interface`. */
  allocate(name: string, req: AllocationRequest, egress: { family: Family; address: bigint } | null): Allocation {
    let pool = this.pools.get(name);
    let last: Allocation | null = null;
    for (let hops = 0; pool && hops <= this.pools.size; hops++) {
      const got = pool.allocate(req);
      if (got.ok || got.reason !== 'pool-exhausted') return got;
      last = got;
      const overflow = pool.pool.overflow;
      if (overflow?.kind === 'interface' && egress) return this.allocateInterface(egress.family, egress.address, req);
      pool = overflow?.kind === 'pool' ? this.pools.get(overflow.pool) : undefined;
    }
    return last ?? { ok: false, reason: 'pool-exhausted', message: `unknown source pool '${name}'` };
  }

  /** Port overloading on an interface address (`source-nat interface`). */
  allocateInterface(family: Family, address: bigint, req: AllocationRequest): Allocation {
    const key = interfacePoolName(family, address);
    let pool = this.interfaces.get(key);
    if (!pool) {
      pool = new PoolAllocator({
        id: 0, name: key, ranges: [{ family, first: address, last: address }], ports: this.interfacePorts,
        overflow: null, hostAddressBase: null, addressPersistent: false, routingInstance: null,
      });
      this.interfaces.set(key, pool);
    }
    return pool.allocate(req);
  }

  free(lease: SourceLease): boolean {
    return (this.pools.get(lease.pool) ?? this.interfaces.get(lease.pool))?.free(lease) ?? false;
  }
}

/** The lease pool name of an interface address, as `show` would print it. */
export function interfacePoolName(family: Family, address: bigint): string {
  return `interface ${formatAddress(family, address)}`;
}
