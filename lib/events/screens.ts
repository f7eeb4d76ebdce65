// The screens xdpfw reports, with the Junos attack name (matched byte for
// byte by SIEM parsers) and the RT_IDS message tag a Junos device logs it
// under. Names are the enumerators of enum xdpfw_screen (XDPFW_SCREEN_LAND is
// 'land'). Attack names are those of shared/REFERENCE.md; tags follow real
// SRX logs where they show one (Elastic's juniper_srx test-ids.log,
// configrouter.com's RT_SCREEN_TCP samples) and the screen's Junos
// configuration family (`ids-option tcp|udp|icmp|ip|limit-session`) otherwise.
// A new screen gets the attack name Junos itself logs, looked up, not invented.

/** Which facts a tag's lines carry besides the zone, interface and action. */
export type ScreenTag = 'RT_SCREEN_TCP' | 'RT_SCREEN_UDP' | 'RT_SCREEN_ICMP' | 'RT_SCREEN_IP';

export interface ScreenInfo {
  attackName: string;
  tag: ScreenTag;
}

export const SCREENS = {
  'syn-flood': { attackName: 'SYN flood!', tag: 'RT_SCREEN_TCP' },
  'syn-flood-src-ip': { attackName: 'SYN flood Src-IP based!', tag: 'RT_SCREEN_TCP' },
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
  // Beyond REFERENCE.md: the strings Junos inherited from ScreenOS's screen
  // messages (not yet checked against a captured SRX line).
  'syn-flood-dst-ip': { attackName: 'SYN flood Dst-IP based!', tag: 'RT_SCREEN_TCP' },
  'ping-of-death': { attackName: 'Ping of Death!', tag: 'RT_SCREEN_ICMP' },
  teardrop: { attackName: 'Teardrop attack!', tag: 'RT_SCREEN_IP' },
  'ip-source-route': { attackName: 'Source Route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-loose-source-route': { attackName: 'Loose source route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-strict-source-route': { attackName: 'Strict source route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-record-route': { attackName: 'Record Route IP option!', tag: 'RT_SCREEN_IP' },
  'ip-timestamp': { attackName: 'Timestamp IP option!', tag: 'RT_SCREEN_IP' },
  'ip-security': { attackName: 'Security IP option!', tag: 'RT_SCREEN_IP' },
  'ip-stream': { attackName: 'Stream IP option!', tag: 'RT_SCREEN_IP' },
} as const satisfies Record<string, ScreenInfo>;

export type ScreenName = keyof typeof SCREENS;

export const SCREEN_NAMES = Object.keys(SCREENS) as ScreenName[];
