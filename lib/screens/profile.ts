// A zone's screen profile as the XDP program reads it (struct
// xdpfw_screen_profile), and which screens a profile turns on.
import type { ScreenProfile, TunnelScreen } from '../config/types.js';
import { SCREEN_PROFILE } from '../dataplane/layout.js';
import type { ScreenConstants, ScreenKey } from './screen-ids.js';

const TUNNEL_SCREENS: readonly TunnelScreen[] = [
  'tunnel-gre-4in4', 'tunnel-gre-4in6', 'tunnel-gre-6in4', 'tunnel-gre-6in6',
  'tunnel-ipip-4in4', 'tunnel-ipip-4in6', 'tunnel-ipip-6in4', 'tunnel-ipip-6in6',
  'tunnel-ipip-6over4', 'tunnel-ipip-6to4relay', 'tunnel-ipip-isatap', 'tunnel-ipip-dslite',
  'tunnel-teredo', 'tunnel-bad-inner-header',
];

/** Each screen and the part of the profile that turns it on. */
const TURNED_ON: ReadonlyArray<readonly [ScreenKey, (p: ScreenProfile) => boolean]> = [
  ['ip-source-route', (p) => p.ip.sourceRoute],
  ['ip-loose-source-route', (p) => p.ip.looseSourceRoute],
  ['ip-strict-source-route', (p) => p.ip.strictSourceRoute],
  ['ip-record-route', (p) => p.ip.recordRoute],
  ['ip-timestamp', (p) => p.ip.timestamp],
  ['ip-security', (p) => p.ip.security],
  ['ip-stream', (p) => p.ip.stream],
  ['ping-of-death', (p) => p.icmp.pingDeath],
  ['teardrop', (p) => p.ip.tearDrop],
  ['ip-spoofing', (p) => p.ip.spoofing],
  ['icmp-fragment', (p) => p.icmp.fragment],
  ['syn-fragment', (p) => p.tcp.synFrag],
  ['land', (p) => p.tcp.land],
  ['tcp-syn-fin', (p) => p.tcp.synFin],
  ['tcp-no-flag', (p) => p.tcp.noFlag],
  ['tcp-fin-no-ack', (p) => p.tcp.finNoAck],
  ['winnuke', (p) => p.tcp.winnuke],
  ['syn-flood', (p) => p.tcp.synFlood !== null],
  ['syn-flood-src-ip', (p) => p.tcp.synFlood !== null],
  ['syn-flood-dst-ip', (p) => p.tcp.synFlood !== null],
  ['tcp-port-scan', (p) => p.tcp.portScan !== null],
  ['udp-flood', (p) => p.udp.flood !== null],
  ['icmp-flood', (p) => p.icmp.flood !== null],
  ['ip-sweep', (p) => p.icmp.ipSweep !== null],
  ['src-ip-session-limit', (p) => p.limitSession.source !== null],
  ['dst-ip-session-limit', (p) => p.limitSession.destination !== null],
  ['ip-bad-option', (p) => p.ip.badOption],
  ['ip-block-frag', (p) => p.ip.blockFrag],
  ['ip-unknown-protocol', (p) => p.ip.unknownProtocol],
  ['icmp-large', (p) => p.icmp.large],
  ['icmpv6-malformed', (p) => p.icmp.icmpv6Malformed],
  ['ipv6-extension-header', (p) => (p.ip.ipv6ExtensionHeaders?.length ?? 0) > 0 || hasOptionTypes(p)],
  ['ipv6-extension-header-limit', (p) => p.ip.ipv6ExtensionHeaderLimit !== null],
  ['tcp-sweep', (p) => p.tcp.sweep !== null],
  ['udp-sweep', (p) => p.udp.sweep !== null],
  ['udp-port-scan', (p) => p.udp.portScan !== null],
  ['syn-ack-ack-proxy', (p) => p.tcp.synAckAckProxy !== null],
  ['ipv6-malformed-header', (p) => p.ip.ipv6MalformedHeader],
  ...TUNNEL_SCREENS.map((key): readonly [ScreenKey, (p: ScreenProfile) => boolean] => [key, (p) => p.ip.tunnel.includes(key)]),
];

function hasOptionTypes(p: ScreenProfile): boolean {
  const o = p.ip.ipv6Options;
  return o.hopByHop.length + o.destination.length + o.headerTypes.length > 0;
}

/** Writes type numbers as a 256-bit set (four u64, bit t of word t >> 6) at `at`. */
function writeTypeSet(types: readonly number[], out: Buffer, at: number): void {
  const words = [0n, 0n, 0n, 0n];
  for (const t of types) words[t >> 6]! |= 1n << BigInt(t & 63);
  words.forEach((w, i) => out.writeBigUInt64LE(w, at + 8 * i));
}

export function enabledScreens(p: ScreenProfile): ScreenKey[] {
  return TURNED_ON.filter(([, on]) => on(p)).map(([key]) => key);
}

const O = SCREEN_PROFILE.offset;

/** Writes `p` as struct xdpfw_screen_profile at `at` in `out`. */
export function encodeProfile(p: ScreenProfile, c: ScreenConstants, out: Buffer, at: number): void {
  const syn = p.tcp.synFlood;
  let screens = 0n;
  for (const key of enabledScreens(p)) screens |= 1n << BigInt(c.ids.get(key)!);
  out.writeBigUInt64LE(screens, at + O.screens);
  const listed = syn !== null && syn.whiteList.source.length + syn.whiteList.destination.length > 0;
  const udpListed = p.udp.flood !== null && p.udp.floodWhiteList.length > 0;
  out.writeUInt32LE((p.alarmWithoutDrop ? c.alarmWithoutDrop : 0) | (listed ? c.synFloodWhiteList : 0) | (udpListed ? c.udpFloodWhiteList : 0) |
    (hasOptionTypes(p) ? c.ipv6Options : 0), at + O.flags);
  writeTypeSet(p.ip.ipv6Options.hopByHop, out, at + O.ipv6_hbh_options);
  writeTypeSet(p.ip.ipv6Options.destination, out, at + O.ipv6_dst_options);
  writeTypeSet(p.ip.ipv6Options.headerTypes, out, at + O.ipv6_header_types);
  out.writeUInt32LE(syn?.attackThreshold ?? 0, at + O.syn_attack);
  out.writeUInt32LE(syn?.alarmThreshold ?? 0, at + O.syn_alarm);
  out.writeUInt32LE(syn?.sourceThreshold ?? 0, at + O.syn_source);
  out.writeUInt32LE(syn?.destinationThreshold ?? 0, at + O.syn_destination);
  out.writeUInt32LE(p.icmp.flood ?? 0, at + O.icmp_flood);
  out.writeUInt32LE(p.udp.flood ?? 0, at + O.udp_flood);
  out.writeUInt32LE(p.tcp.portScan ?? 0, at + O.port_scan_us);
  out.writeUInt32LE(p.icmp.ipSweep ?? 0, at + O.ip_sweep_us);
  out.writeUInt32LE(p.tcp.sweep ?? 0, at + O.tcp_sweep_us);
  out.writeUInt32LE(p.udp.sweep ?? 0, at + O.udp_sweep_us);
  out.writeUInt32LE(p.udp.portScan ?? 0, at + O.udp_port_scan_us);
  let headers = 0;
  for (const h of p.ip.ipv6ExtensionHeaders ?? []) headers |= c.ipv6Ext.get(h)!;
  out.writeUInt32LE(headers >>> 0, at + O.ipv6_ext_headers);
  out.writeUInt32LE(p.ip.ipv6ExtensionHeaderLimit ?? 0, at + O.ipv6_ext_limit);
  out.writeUInt32LE(p.tcp.synAckAckProxy ?? 0, at + O.syn_ack_ack_proxy);
}
