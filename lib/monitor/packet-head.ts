// The 5-tuple of a dropped frame, from its first bytes (the drop record's
// capture, or the slow path's frame). Dropped packets may be malformed: every
// field is read only if it was captured, and what is missing stays null.
export interface PacketHead {
  family: 'inet' | 'inet6' | null;
  protocol: number | null;
  source: string | null;
  destination: string | null;
  sourcePort: number | null;
  destinationPort: number | null;
  icmpType: number | null;
  icmpCode: number | null;
  /** EtherType of a frame that is not IP. */
  ethertype: number | null;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const VLAN_TYPES = new Set([0x8100, 0x88a8]);
const MAX_VLAN_TAGS = 2;
/** IPv6 extension headers walked to the transport header (as far as the capture goes). */
const IPV6_EXT = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[at + i]! << 8) | b[at + i + 1]!).toString(16));
  // Longest run of zero groups as '::' (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parsePacketHead(b: Uint8Array): PacketHead {
  const head: PacketHead = {
    family: null, protocol: null, source: null, destination: null, sourcePort: null, destinationPort: null,
    icmpType: null, icmpCode: null, ethertype: null,
  };
  const u16 = (at: number) => (b[at]! << 8) | b[at + 1]!;
  if (b.length < 14) return head;
  let at = 12;
  let type = u16(at);
  for (let tags = 0; VLAN_TYPES.has(type) && tags < MAX_VLAN_TAGS && b.length >= at + 6; tags++) {
    at += 4;
    type = u16(at);
  }
  at += 2;
  let l4 = -1;
  let fragmentOffset = 0;
  if (type === ETH_P_IP && b.length >= at + 20) {
    head.family = 'inet';
    head.protocol = b[at + 9]!;
    head.source = ipv4(b, at + 12);
    head.destination = ipv4(b, at + 16);
    fragmentOffset = u16(at + 6) & 0x1fff;
    l4 = at + (b[at]! & 0x0f) * 4;
  } else if (type === ETH_P_IPV6 && b.length >= at + 40) {
    head.family = 'inet6';
    head.source = ipv6(b, at + 8);
    head.destination = ipv6(b, at + 24);
    let next = b[at + 6]!;
    let p = at + 40;
    for (let i = 0; i < 4 && b.length >= p + 8; i++) {
      if (next === IPV6_FRAGMENT) {
        fragmentOffset = u16(p + 2) >> 3;
        next = b[p]!;
        p += 8;
      } else if (IPV6_EXT.has(next)) {
        next = b[p]!;
        p += (b[p + 1]! + 1) * 8;
      } else break;
    }
    head.protocol = next;
    l4 = IPV6_EXT.has(next) || next === IPV6_FRAGMENT ? -1 : p;
  } else {
    head.ethertype = type;
    return head;
  }
  if (l4 < 0 || fragmentOffset !== 0) return head;
  const proto = head.protocol;
  if ((proto === 6 || proto === 17 || proto === 132) && b.length >= l4 + 4) {
    head.sourcePort = u16(l4);
    head.destinationPort = u16(l4 + 2);
  } else if ((proto === 1 || proto === 58) && b.length >= l4 + 2) {
    head.icmpType = b[l4]!;
    head.icmpCode = b[l4 + 1]!;
  }
  return head;
}
