import { unsupportedAll, type Shape } from './schema-types.js';

/**
 * Junos hierarchies xdpfw knows but does not implement, and what leaving each out means:
 * `ignored` ones manage the box or its routing and change nothing in what passes through
 * it or how; `refused` ones do (translate, encrypt, inspect, identify users), so a config
 * that has them is refused unless told to ignore unsupported statements.
 */

export const ROOT_UNSUPPORTED: Record<string, Shape> = {
  ...unsupportedAll('ignored', [
    'access', 'access-profile', 'accounting-options', 'bridge-domains', 'chassis', 'class-of-service',
    'diameter', 'dynamic-profiles', 'ethernet-switching-options', 'event-options', 'fabric', 'forwarding-options',
    'jsrc', 'multi-chassis', 'multicast-snooping-options', 'poe', 'protocols', 'routing-options', 'services',
    'smtp', 'snmp', 'switch-options', 'virtual-chassis', 'vlans', 'wlan', 'schedulers', 'system-settings',
  ]),
  ...unsupportedAll('refused', ['logical-systems', 'tenants', 'vmhost']),
};

export const SECURITY_UNSUPPORTED: Record<string, Shape> = {
  ...unsupportedAll('ignored', [
    'analysis', 'application-tracking', 'authentication-key-chains', 'certificates', 'datapath-debug',
    'forwarding-process', 'ike', 'log', 'macsec', 'pki', 'resource-manager', 'ssh-known-hosts', 'traceoptions',
    'distribution-profile', 'cloud-analytics', 'flow-monitoring', 'zones-traceoptions',
  ]),
  ...unsupportedAll('refused', [
    'aamw', 'advance-policy-based-routing', 'alg', 'application-firewall', 'dns-proxy', 'dynamic-address',
    'dynamic-application', 'dynamic-vpn', 'firewall-authentication', 'gprs', 'group-vpn', 'idp', 'ipsec',
    'ipsec-policy', 'remote-access', 'secure-wire', 'softwires', 'ssl', 'tcp-encap', 'user-identification',
    'utm', 'address-translation',
  ]),
};

/**
 * Hierarchies the compiler checks in full (errors at their file:line:column) that the
 * dataplane does not apply yet: refused like the ones above, after their statements validated.
 */
export const NOT_YET_APPLIED: ReadonlySet<string> = new Set(['security nat destination', 'security nat static']);
