/**
 * Keywords of `security screen ids-option` that name one check each: the schema admits
 * them and lib/config/screens.ts turns them into the profile.
 */

/** `ip tunnel gre { ... }`: inner in outer. */
export const GRE_TUNNELS = ['gre-4in4', 'gre-4in6', 'gre-6in4', 'gre-6in6'] as const;

/** `ip tunnel ipip { ... }`. */
export const IPIP_TUNNELS = [
  'ipip-4in4', 'ipip-4in6', 'ipip-6in4', 'ipip-6in6', 'ipip-6over4', 'ipip-6to4relay', 'isatap', 'dslite',
] as const;

/** `ip ipv6-extension-header { ... }` header types without options (hop-by-hop-header and destination-header have their own shape). */
export const IPV6_EXTENSION_HEADERS = [
  'AH-header', 'ESP-header', 'HIP-header', 'fragment-header', 'mobility-header', 'no-next-header', 'routing-header', 'shim6-header',
] as const;

/**
 * The options `hop-by-hop-header { ... }` and `destination-header { ... }` name, with their
 * IANA option types (RFC 8200 4.2, the IPv6 Parameters registry). Junos writes some in
 * capitals (`CALIPSO-option`); both spellings are taken.
 */
export const IPV6_HOP_BY_HOP_OPTIONS: Readonly<Record<string, number>> = {
  'jumbo-payload-option': 0xc2, 'router-alert-option': 0x05, 'quick-start-option': 0x26,
  'CALIPSO-option': 0x07, 'calipso-option': 0x07, 'RPL-option': 0x63, 'rpl-option': 0x63,
  'SFM-DPD-option': 0x08, 'SMF-DPD-option': 0x08, 'smf-dpd-option': 0x08,
};
export const IPV6_DESTINATION_OPTIONS: Readonly<Record<string, number>> = {
  'home-address-option': 0xc9, 'ILNP-nonce-option': 0x8b, 'ilnp-nonce-option': 0x8b,
  'line-identification-option': 0x8c, 'tunnel-encapsulation-limit-option': 0x04,
};

export type GreTunnel = (typeof GRE_TUNNELS)[number];
export type IpipTunnel = (typeof IPIP_TUNNELS)[number];
/** Every header type, as written in the configuration. */
export type Ipv6ExtensionHeader = (typeof IPV6_EXTENSION_HEADERS)[number] | 'hop-by-hop-header' | 'destination-header';
