// The screens xdpfw reports, with the Junos attack name (matched byte for
// byte by SIEM parsers) and the RT_IDS message tag a Junos device logs it
// under. Names are the enumerators of enum xdpfw_screen (XDPFW_SCREEN_LAND is
// 'land'). A new screen gets the attack name Junos itself logs, looked up,
// not invented.
//
// Where each name and tag is confirmed:
// - shared/REFERENCE.md: every name from 'SYN flood!' to 'FIN but no ACK bit!'
//   below, and the tag list (RT_SCREEN_TCP|UDP|ICMP|IP|TCP_SRC_IP|TCP_DST_IP).
// - Elastic integrations, packages/juniper_srx, data_stream/log:
//   _dev/test/pipeline/test-ids.log (real SRX RT_IDS lines) shows
//   'Record Route IP option!' under RT_SCREEN_IP (with protocol-id), 'ICMP
//   fragment!' under RT_SCREEN_ICMP, 'UDP flood!' under RT_SCREEN_UDP, 'SYN
//   flood!', 'TCP port scan!', 'WinNuke attack!', 'FIN but no ACK bit!' under
//   RT_SCREEN_TCP, and the per-address SYN floods under their own tags
//   RT_SCREEN_TCP_SRC_IP / RT_SCREEN_TCP_DST_IP; elasticsearch/ingest_pipeline/ids.yml
//   matches the attack names 'SYN flood Src-IP based!', 'SYN flood
//   Dst-IP based!', 'Src IP session limit!', 'Dst IP session limit!'.
// - ScreenOS only (the attack log patterns of the araqne/krakenapps
//   logparser, org/.../syslog/juniper/attack/JuniperAttackLogParser.java):
//   'Ping of Death!', 'Teardrop attack!', 'Source Route IP option!'. Junos
//   kept most ScreenOS screen strings ('Land attack!', 'SYN fragment!', 'No
//   TCP flag!', 'Src IP session limit!' are the same in both) but not all
//   (ScreenOS 'Port scan!' / 'Address sweep!' are Junos 'TCP port scan!' /
//   'IP sweep!'), so these three are likely, not confirmed, for SRX.
// Unconfirmed (no captured line found): 'Loose source route IP option!',
// 'Strict source route IP option!', 'Timestamp IP option!', 'Security IP
// option!', 'Stream IP option!' (named after the confirmed 'Record Route IP
// option!' / 'Source Route IP option!'), the tags of ping of death and
// teardrop, and RT_SCREEN_IP for the session limits (real SRX tags them with
// one of the six tags above; which one, no sample shows).

/** Which facts a tag's lines carry besides the zone, interface and action. */
export type ScreenTag =
  | 'RT_SCREEN_TCP' | 'RT_SCREEN_UDP' | 'RT_SCREEN_ICMP' | 'RT_SCREEN_IP' | 'RT_SCREEN_TCP_SRC_IP' | 'RT_SCREEN_TCP_DST_IP';

export interface ScreenInfo {
  attackName: string;
  tag: ScreenTag;
}

export const SCREENS = {
  'syn-flood': { attackName: 'SYN flood!', tag: 'RT_SCREEN_TCP' },
  'syn-flood-src-ip': { attackName: 'SYN flood Src-IP based!', tag: 'RT_SCREEN_TCP_SRC_IP' },
  'udp-flood': { attackName: 'UDP flood!', tag: 'RT_SCREEN_UDP' },
  'icmp-flood': { attackName: 'ICMP flood!', tag: 'RT_SCREEN_ICMP' },
  'tcp-port-scan': { attackName: 'TCP port scan!', tag: 'RT_SCREEN_TCP' },
  'ip-sweep': { attackName: 'IP sweep!', tag: 'RT_SCREEN_ICMP' },
  'icmp-fragment': { attackName: 'ICMP fragment!', tag: 'RT_SCREEN_ICMP' },
  'syn-fragment': { attackName: 'SYN fragment!', tag: 'RT_SCREEN_TCP' },
  'ip-spoofing': { attackName: 'IP spoofing!', tag: 'RT_SCREEN_IP' },
  'src-ip-session-limit': { attackName: 'Src IP session limit!', tag: 'RT_SCREEN_IP' },
  'dst-ip-session-limit': { attackName: 'Dst IP session limit!', tag: 'RT_SCREEN_IP' },
  land: { attackName: 'Land attack!', tag: 'RT_SCREEN_TCP' },
  winnuke: { attackName: 'WinNuke attack!', tag: 'RT_SCREEN_TCP' },
  'tcp-no-flag': { attackName: 'No TCP flag!', tag: 'RT_SCREEN_TCP' },
  'tcp-syn-fin': { attackName: 'SYN and FIN bits!', tag: 'RT_SCREEN_TCP' },
  'tcp-fin-no-ack': { attackName: 'FIN but no ACK bit!', tag: 'RT_SCREEN_TCP' },
  // Beyond REFERENCE.md (see above for which are confirmed).
  'syn-flood-dst-ip': { attackName: 'SYN flood Dst-IP based!', tag: 'RT_SCREEN_TCP_DST_IP' },
  'ping-of-death': { attackName: 'Ping of Death!', tag: 'RT_SCREEN_ICMP' },
  teardrop: { attackName: 'Teardrop attack!', tag: 'RT_SCREEN_IP' },
  'ip-source-route': { attackName: 'Source Route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-loose-source-route': { attackName: 'Loose source route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-strict-source-route': { attackName: 'Strict source route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-record-route': { attackName: 'Record Route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-timestamp': { attackName: 'Timestamp IP option!', tag: 'RT_SCREEN_IP' },
  'ip-security': { attackName: 'Security IP option!', tag: 'RT_SCREEN_IP' },
  'ip-stream': { attackName: 'Stream IP option!', tag: 'RT_SCREEN_IP' },
  // ScreenOS names Junos kept (the krakenapps/araqne patterns above list
  // 'Bad IP option!', 'Fragmented traffic!', 'Unknown protocol!', 'Large ICMP
  // packet!'; a captured ScreenOS system-alert-00442 line 'TCP sweep!'):
  // likely, not confirmed for SRX, as ping of death above.
  'ip-bad-option': { attackName: 'Bad IP option!', tag: 'RT_SCREEN_IP' },
  'ip-block-frag': { attackName: 'Fragmented traffic!', tag: 'RT_SCREEN_IP' },
  'ip-unknown-protocol': { attackName: 'Unknown protocol!', tag: 'RT_SCREEN_IP' },
  'icmp-large': { attackName: 'Large ICMP packet!', tag: 'RT_SCREEN_ICMP' },
  'tcp-sweep': { attackName: 'TCP sweep!', tag: 'RT_SCREEN_TCP' },
  // ScreenOS's message 00439 'SYN-ACK-ACK Proxy DoS!' (the krakenapps/araqne
  // patterns above and the netscreen attack lists of SIEM parsers); Junos kept
  // the screen under the same statement: likely, not confirmed for SRX.
  'syn-ack-ack-proxy': { attackName: 'SYN-ACK-ACK Proxy DoS!', tag: 'RT_SCREEN_TCP' },
  // Unconfirmed, no captured line found: named after the statement, as the other IPv6 screens.
  'ipv6-malformed-header': { attackName: 'IPv6 malformed header!', tag: 'RT_SCREEN_IP' },
  // Unconfirmed, no captured line found: named after the screens' own
  // statements and the confirmed 'TCP port scan!' / 'IP sweep!'.
  'icmpv6-malformed': { attackName: 'ICMPv6 malformed packet!', tag: 'RT_SCREEN_ICMP' },
  'ipv6-extension-header': { attackName: 'IPv6 extension header!', tag: 'RT_SCREEN_IP' },
  'ipv6-extension-header-limit': { attackName: 'IPv6 extension header limit!', tag: 'RT_SCREEN_IP' },
  'udp-sweep': { attackName: 'UDP sweep!', tag: 'RT_SCREEN_UDP' },
  'udp-port-scan': { attackName: 'UDP port scan!', tag: 'RT_SCREEN_UDP' },
  'tunnel-gre-4in4': { attackName: 'GRE 4in4 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-gre-4in6': { attackName: 'GRE 4in6 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-gre-6in4': { attackName: 'GRE 6in4 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-gre-6in6': { attackName: 'GRE 6in6 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-4in4': { attackName: 'IPIP 4in4 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-4in6': { attackName: 'IPIP 4in6 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-6in4': { attackName: 'IPIP 6in4 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-6in6': { attackName: 'IPIP 6in6 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-6over4': { attackName: 'IPIP 6over4 tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-6to4relay': { attackName: 'IPIP 6to4relay tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-isatap': { attackName: 'IPIP ISATAP tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-ipip-dslite': { attackName: 'IPIP DS-Lite tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-teredo': { attackName: 'Teredo tunnel!', tag: 'RT_SCREEN_IP' },
  'tunnel-bad-inner-header': { attackName: 'Bad inner header!', tag: 'RT_SCREEN_IP' },
} as const satisfies Record<string, ScreenInfo>;

export type ScreenName = keyof typeof SCREENS;

export const SCREEN_NAMES = Object.keys(SCREENS) as ScreenName[];
