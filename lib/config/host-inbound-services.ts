/**
 * What each `host-inbound-traffic` keyword admits to the box itself. `all` (every entry of
 * its table) is handled by the compiler. IPv6 neighbour discovery is handled elsewhere.
 */

/** One admitted kind of packet: IP protocol plus destination port range or ICMP type (-1 = any). */
export interface HostMatch {
  readonly protocol: number;
  readonly portLow: number;
  readonly portHigh: number;
  readonly icmpType: number;
}

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

const port = (protocol: number, low: number, high = low): HostMatch => ({ protocol, portLow: low, portHigh: high, icmpType: -1 });
const tcp = (low: number, high?: number): HostMatch => port(IPPROTO_TCP, low, high);
const udp = (low: number, high?: number): HostMatch => port(IPPROTO_UDP, low, high);
const icmp = (type: number): HostMatch => ({ protocol: IPPROTO_ICMP, portLow: 0, portHigh: 65535, icmpType: type });
const icmp6 = (type: number): HostMatch => ({ protocol: IPPROTO_ICMPV6, portLow: 0, portHigh: 65535, icmpType: type });
const proto = (protocol: number): HostMatch => ({ protocol, portLow: 0, portHigh: 65535, icmpType: -1 });

/** `system-services` keywords. */
export const SYSTEM_SERVICES: ReadonlyMap<string, readonly HostMatch[]> = new Map([
  ['ping', [icmp(8), icmp6(128)]], // echo requests
  ['traceroute', [udp(33434, 33523)]], // classic UDP traceroute: 30 hops x 3 probes
  ['ssh', [tcp(22)]],
  ['telnet', [tcp(23)]],
  ['ftp', [tcp(21)]],
  ['tftp', [udp(69)]],
  ['http', [tcp(80)]],
  ['https', [tcp(443)]],
  ['dns', [udp(53), tcp(53)]],
  ['ntp', [udp(123)]],
  ['snmp', [udp(161)]],
  ['snmp-trap', [udp(162)]],
  ['dhcp', [udp(67), udp(68)]],
  ['bootp', [udp(67), udp(68)]],
  ['dhcpv6', [udp(546), udp(547)]],
  ['ike', [udp(500), udp(4500)]],
  ['netconf', [tcp(830)]],
  ['xnm-ssl', [tcp(3220)]],
  ['xnm-clear-text', [tcp(3221)]],
  ['finger', [tcp(79)]],
  ['rlogin', [tcp(513)]],
  ['rsh', [tcp(514)]],
  ['ident-reset', [tcp(113)]],
]);

/** `protocols` keywords. */
export const HOST_PROTOCOLS: ReadonlyMap<string, readonly HostMatch[]> = new Map([
  ['bgp', [tcp(179)]],
  ['ospf', [proto(89)]],
  ['ospf3', [proto(89)]],
  ['rip', [udp(520)]],
  ['ripng', [udp(521)]],
  ['ldp', [tcp(646), udp(646)]],
  ['bfd', [udp(3784, 3785), udp(4784)]],
  ['msdp', [tcp(639)]],
  ['vrrp', [proto(112)]],
  ['pim', [proto(103)]],
  ['igmp', [proto(2)]],
  ['rsvp', [proto(46)]],
  ['router-discovery', [icmp(9), icmp(10)]],
]);

export const ALL = 'all';
/** Junos's other name for `all` in `system-services`. */
export const ANY_SERVICE = 'any-service';
export const EXCEPT = 'except';
