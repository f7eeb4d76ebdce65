import type { Family } from '../config/family.js';
import { hostMask, rangeSize } from './addr.js';
import type { AddressRange, DestinationPool, NatPrefix, StaticRule } from './types.js';

/**
 * Address arithmetic of static and destination NAT. Static NAT maps a prefix one to one onto
 * another of the same length (the host bits are kept), in both directions; NAT64 (`inet`)
 * takes the IPv4 address from the last 32 bits of an IPv6 /96.
 */

function contains(p: NatPrefix, family: Family, addr: bigint): boolean {
  return p.family === family && (addr & ~hostMask(family, p.length)) === p.network;
}

/** Same host bits under another prefix of the same length. */
export function mapPrefix(from: NatPrefix, to: NatPrefix, addr: bigint): bigint {
  return to.network | (addr & hostMask(from.family, from.length));
}

/**
 * The translated destination of a flow to `addr` under a static rule, or null when the rule
 * does not match it. For `inet` the result is an IPv4 address (the flow changes family).
 */
export function staticForward(rule: StaticRule, family: Family, addr: bigint): bigint | null {
  if (!contains(rule.destinationPrefix, family, addr)) return null;
  if (rule.action.kind === 'inet') return addr & 0xffffffffn;
  return mapPrefix(rule.destinationPrefix, rule.action.prefix, addr);
}

/** The source a host of the translated prefix appears as when it starts a flow, or null when it is not one. */
export function staticReverse(rule: StaticRule, family: Family, addr: bigint): bigint | null {
  if (rule.action.kind !== 'prefix' || !contains(rule.action.prefix, family, addr)) return null;
  return mapPrefix(rule.action.prefix, rule.destinationPrefix, addr);
}

/**
 * A destination pool's address for a flow to `destination`: a single address, or for a
 * range the address at the same offset from the start of the rule's matched range as the
 * destination (wrapping around a smaller pool), so a prefix maps onto a range one to one.
 */
export function destinationPoolTarget(pool: DestinationPool, matched: readonly AddressRange[] | null, destination: bigint): bigint {
  const size = rangeSize(pool.range);
  if (size === 1n) return pool.range.first;
  const within = matched?.find((r) => r.family === pool.range.family && destination >= r.first && destination <= r.last);
  const offset = within ? destination - within.first : 0n;
  return pool.range.first + (offset % size);
}
