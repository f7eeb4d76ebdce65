// Session keys (struct xdpfw_session_key) built from what the XDP program
// hands the slow path, and the helpers to read them back for people.
import { SESSION_KEY } from '../dataplane/layout.js';
import { formatAddress } from '../events/address.js';
import type { Family } from '../config/family.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** An address family by its Junos name (one definition: lib/config/family.ts). */
export type FamilyName = Family;

export function familyName(af: number): FamilyName {
  return af === AF_INET6 ? 'inet6' : 'inet';
}

const PROTOCOL_NAMES: Record<number, string> = {
  [IPPROTO_ICMP]: 'icmp', [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMPV6]: 'icmp6',
};

export function protocolName(p: number): string {
  return PROTOCOL_NAMES[p] ?? String(p);
}

const K = SESSION_KEY.offset;

/** Writes the reverse direction of `key` into `out` (both SESSION_KEY.size bytes). */
export function reverseKey(key: Uint8Array, out: Uint8Array): Uint8Array {
  // Byte by byte: a view per field (subarray) cost more than the copy, once per new session.
  for (let i = 0; i < K.src_port; i++) out[i] = key[i]!;
  out[K.src_port] = key[K.dst_port]!;
  out[K.src_port + 1] = key[K.dst_port + 1]!;
  out[K.dst_port] = key[K.src_port]!;
  out[K.dst_port + 1] = key[K.src_port + 1]!;
  for (let i = 0; i < 16; i++) {
    out[K.src_addr + i] = key[K.dst_addr + i]!;
    out[K.dst_addr + i] = key[K.src_addr + i]!;
  }
  return out;
}

/** A string usable as a Map key for a session key. */
export function keyId(key: Uint8Array): string {
  // A Buffer (the slow path's keys) yields the string without an intermediate view.
  if (Buffer.isBuffer(key)) return key.toString('latin1', 0, SESSION_KEY.size);
  return Buffer.from(key.buffer, key.byteOffset, SESSION_KEY.size).toString('latin1');
}

export interface FlowTuple {
  family: FamilyName;
  protocol: number;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
}

/** The tuple of a key as people read it (ports in host order). */
export function describeKey(key: Uint8Array): FlowTuple {
  // Read at offsets: no view or DataView per call (once per new session).
  const family = familyName(key[K.family]!);
  return {
    family,
    protocol: key[K.protocol]!,
    sourceAddress: formatAddress(key, family, K.src_addr),
    sourcePort: (key[K.src_port]! << 8) | key[K.src_port + 1]!,
    destinationAddress: formatAddress(key, family, K.dst_addr),
    destinationPort: (key[K.dst_port]! << 8) | key[K.dst_port + 1]!,
  };
}
