import type { Statement } from './ast.js';
import type { Diagnostics } from './errors.js';
import { container, list } from './schema-types.js';
import { child, listOf } from './tree.js';

/**
 * `security forwarding-options pass-ethertype [ lldp 0x8863 ... ];`: the non-IP EtherTypes the
 * zone interfaces hand to the kernel. IPv4, IPv6 and ARP are not for this list (IP is judged
 * by the firewall, ARP always passes); every other EtherType (PPPoE, MPLS, LLDP, ...) is
 * dropped and counted (non_ip_ethertype) unless listed.
 */

/** `security forwarding-options` as the schema knows it. */
export const FORWARDING_OPTIONS_SCHEMA = container({ 'pass-ethertype': list('EtherType') });

/** Names accepted for common EtherTypes. */
export const ETHERTYPE_NAMES: Readonly<Record<string, number>> = {
  'pppoe-discovery': 0x8863,
  'pppoe-session': 0x8864,
  mpls: 0x8847,
  'mpls-multicast': 0x8848,
  lldp: 0x88cc,
  lacp: 0x8809, // IEEE 802.3 slow protocols
  eapol: 0x888e,
  macsec: 0x88e5,
  ptp: 0x88f7,
  rarp: 0x8035,
  ipx: 0x8137,
};

const NOT_LISTABLE: Readonly<Record<number, string>> = {
  0x0800: 'IPv4 is judged by the firewall',
  0x86dd: 'IPv6 is judged by the firewall',
  0x0806: 'ARP always passes',
  0x8100: 'VLAN tags are read through, not passed',
  0x88a8: 'VLAN tags are read through, not passed',
};

/** The maximum of entries the XDP table holds (XDPFW_MAX_PASS_ETHERTYPES in bpf/verify.h). */
export const MAX_PASS_ETHERTYPES = 64;

export function compilePassEthertypes(root: readonly Statement[], d: Diagnostics): number[] {
  const options = child(child(root, 'security')?.children, 'forwarding-options');
  const out = new Set<number>();
  for (const w of listOf(options?.children, 'pass-ethertype')) {
    const value = ETHERTYPE_NAMES[w.text] ?? (/^0x[0-9a-f]{4}$/i.test(w.text) ? parseInt(w.text.slice(2), 16) : null);
    if (value === null || value < 0x0600) {
      d.error(w.pos, `invalid EtherType '${w.text}': expected 0x0600 to 0xffff in hex (0x88cc) or one of ${Object.keys(ETHERTYPE_NAMES).join(', ')}`);
      continue;
    }
    const refused = NOT_LISTABLE[value];
    if (refused) {
      d.error(w.pos, `EtherType '${w.text}' cannot be passed: ${refused}`);
      continue;
    }
    if (out.size >= MAX_PASS_ETHERTYPES && !out.has(value)) {
      d.error(w.pos, `too many EtherTypes to pass: at most ${MAX_PASS_ETHERTYPES}`);
      continue;
    }
    out.add(value);
  }
  return [...out].sort((a, b) => a - b);
}
