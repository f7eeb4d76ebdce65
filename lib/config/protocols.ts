/** IP protocol and port names accepted in `applications` (Junos spellings, IANA numbers). */

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

export const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['icmp', 1],
  ['igmp', 2],
  ['ipip', 4],
  ['tcp', 6],
  ['egp', 8],
  ['udp', 17],
  ['rsvp', 46],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['icmp6', 58],
  ['ospf', 89],
  ['pim', 103],
  ['vrrp', 112],
  ['sctp', 132],
]);

/** Protocols whose applications may name ports. */
export function hasPorts(protocol: number): boolean {
  return protocol === IPPROTO.TCP || protocol === IPPROTO.UDP || protocol === IPPROTO.SCTP;
}

export function isIcmp(protocol: number): boolean {
  return protocol === IPPROTO.ICMP || protocol === IPPROTO.ICMPV6;
}

/** Port names of Junos `destination-port` / `source-port`. */
export const PORT_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['afs', 1483],
  ['bgp', 179],
  ['biff', 512],
  ['bootpc', 68],
  ['bootps', 67],
  ['cmd', 514],
  ['cvspserver', 2401],
  ['dhcp', 67],
  ['domain', 53],
  ['eklogin', 2105],
  ['ekshell', 2106],
  ['exec', 512],
  ['finger', 79],
  ['ftp', 21],
  ['ftp-data', 20],
  ['http', 80],
  ['https', 443],
  ['ident', 113],
  ['imap', 143],
  ['kerberos-sec', 88],
  ['klogin', 543],
  ['kpasswd', 761],
  ['krb-prop', 754],
  ['krbupdate', 760],
  ['kshell', 544],
  ['ldap', 389],
  ['ldp', 646],
  ['login', 513],
  ['mobileip-agent', 434],
  ['mobilip-mn', 435],
  ['msdp', 639],
  ['netbios-dgm', 138],
  ['netbios-ns', 137],
  ['netbios-ssn', 139],
  ['nfsd', 2049],
  ['nntp', 119],
  ['ntalk', 518],
  ['ntp', 123],
  ['pop3', 110],
  ['pptp', 1723],
  ['printer', 515],
  ['radacct', 1813],
  ['radius', 1812],
  ['rip', 520],
  ['rkinit', 2108],
  ['smtp', 25],
  ['snmp', 161],
  ['snmp-trap', 162],
  ['snpp', 444],
  ['socks', 1080],
  ['ssh', 22],
  ['sunrpc', 111],
  ['syslog', 514],
  ['tacacs', 49],
  ['tacacs-ds', 65],
  ['talk', 517],
  ['telnet', 23],
  ['tftp', 69],
  ['timed', 525],
  ['who', 513],
  ['xdmcp', 177],
]);
