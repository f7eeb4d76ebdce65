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

export type GreTunnel = (typeof GRE_TUNNELS)[number];
export type IpipTunnel = (typeof IPIP_TUNNELS)[number];
/** Every header type, as written in the configuration. */
export type Ipv6ExtensionHeader = (typeof IPV6_EXTENSION_HEADERS)[number] | 'hop-by-hop-header' | 'destination-header';
