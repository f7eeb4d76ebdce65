import { ALL, EXCEPT, HOST_PROTOCOLS, SYSTEM_SERVICES } from './host-inbound-services.js';
import { FIREWALL_SCHEMA, POLICY_OPTIONS_SCHEMA } from './filters.js';
import { ROUTING_INSTANCES_SCHEMA } from './routing-instances.js';
import { FORWARDING_OPTIONS_SCHEMA } from './ethertypes.js';
import { container, flag, leaf, list, named, one, unsupported, unsupportedAll, type Container, type Shape } from './schema-types.js';
import { ANY_SERVICE } from './host-inbound-services.js';
import { ROOT_UNSUPPORTED, SECURITY_UNSUPPORTED } from './unsupported.js';
import { NAT_SCHEMA } from '../nat/schema.js';
import { HA_SCHEMA } from '../ha/schema.js';
import { GRE_TUNNELS, IPIP_TUNNELS, IPV6_DESTINATION_OPTIONS, IPV6_EXTENSION_HEADERS, IPV6_HOP_BY_HOP_OPTIONS } from './screen-keywords.js';

/**
 * The statements xdpfw understands. New parts of the language are added here and in the
 * compiler; the parser never changes.
 */

const description = one('description text');

const APPLICATION_MATCH: Record<string, Shape> = {
  protocol: one('protocol'),
  'source-port': one('port or port range'),
  'destination-port': one('port or port range'),
  'icmp-type': one('ICMP type'),
  'icmp-code': one('ICMP code'),
  'icmp6-type': one('ICMPv6 type'),
  'icmp6-code': one('ICMPv6 code'),
  'inactivity-timeout': one('seconds or never'),
};

/** `ssh;`, `telnet except;` (with `all;`), `all;`. */
function hostInboundKeywords(names: Iterable<string>, aliases: readonly string[], junosOnly: readonly string[]): Container {
  const entry = leaf({ kind: 'optional', oneOf: [EXCEPT] });
  return container({
    ...Object.fromEntries([ALL, ...aliases, ...names].map((n): [string, Shape] => [n, entry])),
    // Junos admits these too; xdpfw does not, and never silently.
    ...unsupportedAll('refused', junosOnly),
  });
}

const hostInboundTraffic = container({
  'system-services': hostInboundKeywords(SYSTEM_SERVICES.keys(), [ANY_SERVICE], [
    'appqoe', 'high-availability', 'jsrpc', 'lsping', 'lsselfping', 'r2cp', 'reverse-ssh', 'reverse-telnet', 'rpm',
    'sip', 'tcp-encap', 'web-management', 'webapi-clear-text', 'webapi-ssl',
  ]),
  protocols: hostInboundKeywords(HOST_PROTOCOLS.keys(), [], ['dvmrp', 'nhrp', 'pgm', 'sap', 'l2tp']),
});

/** Junos address families of an interface unit; xdpfw filters inet and inet6. */
const FAMILIES = ['inet', 'inet6', 'ethernet-switching', 'iso', 'mpls', 'bridge', 'ccc', 'vpls', 'tcc', 'any', 'pppoe', 'evpn'];

const policy = container(
  {
    description,
    match: container(
      {
        'source-address': list('address name'),
        'destination-address': list('address name'),
        application: list('application name'),
      },
      { others: 'refused' }, // source-identity, dynamic-application, *-address-excluded, from-zone in global policies, ...
    ),
    then: container({
      // application-services, tunnel, firewall-authentication, destination-address, ...
      permit: container({}, { others: 'refused' }),
      deny: flag,
      reject: flag,
      log: container({ 'session-init': flag, 'session-close': flag }),
      count: container({}, { others: 'ignored' }), // alarm thresholds
    }),
    'scheduler-name': unsupported('refused'),
  },
  { keys: [named('policy name')], unique: 'policy', others: 'refused' },
);

const interfaceUnit = container(
  {
    description,
    'vlan-id': one('VLAN id'),
    family: container(
      {
        // Addresses are the kernel's business; `primary`, `vrrp-group`, ... under them too.
        address: container({}, { keys: [named('interface address')], others: 'ignored' }),
        filter: container({ input: one('filter name'), output: one('filter name') }, { others: 'refused' }),
        'rpf-check': unsupported('refused'),
      },
      // Families other than inet and inet6 (ethernet-switching, iso, mpls, ...) are reported by the compiler.
      { keys: [{ label: 'address family', oneOf: FAMILIES }], others: 'ignored' },
    ),
  },
  // encapsulation, ... (the kernel's or the link's business).
  { keys: [named('unit number')], others: 'ignored' },
);

const seconds = one('number of seconds');

const perSecond = one('number per second');
const microseconds = container({ threshold: one('number of microseconds') });

/**
 * `ip ipv6-extension-header`: the header types it drops; within hop-by-hop and destination
 * options headers, the option types (`user-defined-option-type L to H`: 1-255), and
 * `user-defined-header-type L to H` (0-255).
 */
const typeRange = (what: string) =>
  leaf({ kind: 'none' }, { keys: [named(`lowest ${what}`), { label: "'to'", literal: 'to' }, named(`highest ${what}`)] });
const optionTypes = (named: Readonly<Record<string, number>>) => container(
  { ...Object.fromEntries(Object.keys(named).map((k) => [k, flag])), 'user-defined-option-type': typeRange('option type') },
  { others: 'refused' },
);
const ipv6ExtensionHeader = container(
  {
    ...Object.fromEntries(IPV6_EXTENSION_HEADERS.map((k) => [k, flag])),
    'hop-by-hop-header': optionTypes(IPV6_HOP_BY_HOP_OPTIONS),
    'destination-header': optionTypes(IPV6_DESTINATION_OPTIONS),
    'user-defined-header-type': typeRange('header type'),
  },
  { others: 'refused' },
);

/** `security screen ids-option NAME`: Junos's screens that xdpfw implements (lib/config/screens.ts). */
const idsOption = container(
  {
    description,
    'alarm-without-drop': flag,
    icmp: container(
      {
        flood: container({ threshold: perSecond }),
        fragment: flag,
        'ip-sweep': microseconds,
        'ping-death': flag,
        large: flag,
        'icmpv6-malformed': flag,
      },
      { others: 'refused' },
    ),
    ip: container({
      'source-route-option': flag,
      'loose-source-route-option': flag,
      'strict-source-route-option': flag,
      'record-route-option': flag,
      'timestamp-option': flag,
      'security-option': flag,
      'stream-option': flag,
      'tear-drop': flag,
      spoofing: flag,
      'bad-option': flag,
      'block-frag': flag,
      'unknown-protocol': flag,
      'ipv6-extension-header': ipv6ExtensionHeader,
      'ipv6-extension-header-limit': one('number of extension headers'),
      'ipv6-malformed-header': flag,
      tunnel: container({
        'bad-inner-header': flag,
        gre: container(Object.fromEntries(GRE_TUNNELS.map((k) => [k, flag])), { others: 'refused' }),
        ipip: container(Object.fromEntries(IPIP_TUNNELS.map((k) => [k, flag])), { others: 'refused' }),
        'ip-in-udp': container({ teredo: flag }, { others: 'refused' }),
      }, { others: 'refused' }),
    }, { others: 'refused' }),
    tcp: container({
      land: flag,
      'syn-fin': flag,
      'tcp-no-flag': flag,
      'fin-no-ack': flag,
      winnuke: flag,
      'syn-frag': flag,
      'syn-flood': container({
        'attack-threshold': perSecond,
        'alarm-threshold': perSecond,
        'source-threshold': perSecond,
        'destination-threshold': perSecond,
        timeout: seconds,
        'white-list': container(
          { 'source-address': list('IP prefix'), 'destination-address': list('IP prefix') },
          { keys: [named('white-list name')] },
        ),
      }, { others: 'refused' }), // queue-size, ...
      'port-scan': microseconds,
      'tcp-sweep': microseconds,
      'syn-ack-ack-proxy': container({ threshold: one('number of connections') }),
    }, { others: 'refused' }),
    udp: container({
      flood: container({ threshold: perSecond, 'white-list': list('white-list name') }),
      'port-scan': microseconds,
      'udp-sweep': microseconds,
    }, { others: 'refused' }),
    'limit-session': container({
      'source-ip-based': one('number of sessions'),
      'destination-ip-based': one('number of sessions'),
    }),
  },
  { keys: [named('screen name')], unique: 'screen', others: 'refused' },
);

/** `address N { P; }`, `address N P;` and the other display forms of an address (addressbook.ts). */
const address = container(
  {
    description,
    'range-address': leaf({ kind: 'none' }, { keys: [named('first address'), { label: "'to'", literal: 'to' }, named('last address')] }),
    'wildcard-address': leaf({ kind: 'none' }, { keys: [named('wildcard address')] }),
    // Resolved by the daemon, again when each answer's TTL runs out (lib/dns-names/).
    'dns-name': container({ 'ipv4-only': flag, 'ipv6-only': flag }, { keys: [named('domain name')] }),
  },
  { keys: [named('address name')], unique: 'address', wildcard: { label: 'IP prefix', shape: flag }, collapse: true },
);

const addressBook = container({
  description,
  address,
  'address-set': container(
    {
      description,
      address: leaf({ kind: 'none' }, { keys: [named('address name')] }),
      'address-set': leaf({ kind: 'none' }, { keys: [named('address-set name')] }),
    },
    { keys: [named('address-set name')], unique: 'address-set' },
  ),
  attach: container({ zone: leaf({ kind: 'none' }, { keys: [named('zone name')] }) }),
});

/** What a security zone and the management functional zone have in common. */
const zoneBody = {
  description,
  // An interface's own host-inbound-traffic overrides the zone's for packets it receives (zones.ts).
  interfaces: container({}, { wildcard: { label: 'interface name', shape: container({ 'host-inbound-traffic': hostInboundTraffic }) } }),
  'host-inbound-traffic': hostInboundTraffic,
  screen: one('screen name'),
  ...unsupportedAll('ignored', ['application-tracking', 'tcp-rst', 'source-identity-log', 'enable-reverse-reroute', 'unidirectional-session-refreshing']),
  'advance-policy-based-routing-profile': unsupported('refused'),
};

export const SCHEMA: Container = container({
  interfaces: container(
    unsupportedAll('ignored', ['interface-range', 'traceoptions']),
    {
      wildcard: {
        label: 'interface name',
        // Link settings (speed, gigether-options, ...) are the kernel's business.
        shape: container({ description, 'vlan-tagging': flag, 'flexible-vlan-tagging': flag, unit: interfaceUnit }, { unique: 'interface', others: 'ignored' }),
      },
    },
  ),
  security: container({
    zones: container({
      'security-zone': container(
        { ...zoneBody, 'address-book': addressBook },
        { keys: [named('zone name')], unique: 'security-zone' },
      ),
      'functional-zone': container({ management: container(zoneBody) }),
    }),
    screen: container({
      'ids-option': idsOption,
      // Named address lists the udp flood screens exempt (`udp flood white-list NAME`).
      'white-list': container({ description, address: list('IP prefix') }, { keys: [named('white-list name')] }),
    }, { others: 'ignored' }),
    'address-book': container({}, { wildcard: { label: 'address book name', shape: addressBook } }),
    policies: container(
      {
        'from-zone': container({ policy }, { keys: [named('zone name'), { label: "'to-zone'", literal: 'to-zone' }, named('zone name')] }),
        global: container({ policy }),
        'default-policy': container({ 'deny-all': flag, 'permit-all': flag }),
      },
      { others: 'ignored' }, // policy-rematch, policy-stats, pre-id-default-policy, traceoptions
    ),
    ...SECURITY_UNSUPPORTED,
    // Validated (lib/nat/); source, destination and static are then refused as not applied yet
    // (unsupported.ts NOT_YET_APPLIED), proxy-arp and proxy-ndp are applied.
    nat: NAT_SCHEMA,
    flow: container({
      timeouts: container({
        tcp: seconds,
        'tcp-initial': seconds,
        'tcp-closing': seconds,
        udp: seconds,
        icmp: seconds,
        other: seconds,
      }),
      'max-sessions': one('number of sessions'),
      'tcp-session': container({
        'no-syn-check': flag,
        'no-sequence-check': flag,
        'tcp-initial-timeout': seconds,
        'time-wait-state': container({ 'session-timeout': seconds }),
      }, { others: 'refused' }),
      'slow-path-budget': container({
        capacity: one('packets per second'),
        'per-source': one('packets per second'),
        'tcp-syn': one('packets per second'),
        'new-flow': one('packets per second'),
        exception: one('packets per second'),
        'burst-ms': one('number of milliseconds'),
        'deny-cache-timeout': seconds,
      }),
      // tcp-mss rewrites packets, allow-dns-reply / allow-embedded-icmp widen what passes, ...
    }, { others: 'refused' }),
    'forwarding-options': FORWARDING_OPTIONS_SCHEMA,
  }),
  version: one('software version'),
  // Filled in below: a group holds statements of the whole hierarchy (groups.ts).
  groups: container({}),
  // The box's own management (login, ntp, ...) changes nothing in what passes through it.
  system: container(
    {
      'host-name': one('host name'),
      // The resolvers of dns-name addresses (system.ts); their routing instances are the kernel's business.
      'name-server': container({}, { wildcard: { label: 'name server address', shape: container({}, { others: 'ignored' }) } }),
      syslog: container(
        {
          host: container(
            { port: one('port number'), transport: one('transport'), format: one('log format') },
            { keys: [named('host address')], unique: 'syslog host', others: 'ignored' },
          ),
          'file-json': one('file path'),
          'rate-limit': one('number of events per second'),
          // The box's own logs.
          ...unsupportedAll('ignored', [
            'archive', 'console', 'file', 'user', 'source-address', 'time-format', 'log-rotate-frequency', 'server',
            'allow-duplicates', 'facility-override', 'routing-instance', 'grpc-replay', 'structured-data', 'log-prefix',
          ]),
        },
      ),
      services: container(
        {
          metrics: container({ 'listen-address': one('address'), port: one('port number'), disable: flag }),
        },
        { others: 'ignored' },
      ),
    },
    { others: 'ignored' },
  ),
  ...ROOT_UNSUPPORTED,
  // An application's match, or one of its terms' (lib/config/applications.ts).
  applications: container({
    application: container(
      {
        description,
        ...APPLICATION_MATCH,
        term: container(APPLICATION_MATCH, { keys: [named('term name')], unique: 'term' }),
      },
      // application-protocol (ALGs), rpc-program-number, uuid, ...
      { keys: [named('application name')], unique: 'application', others: 'refused' },
    ),
    'application-set': container(
      {
        description,
        application: leaf({ kind: 'none' }, { keys: [named('application name')] }),
        'application-set': leaf({ kind: 'none' }, { keys: [named('application-set name')] }),
      },
      { keys: [named('application-set name')], unique: 'application-set' },
    ),
  }),
  // Firewall filters, prefix lists and routing instances (lib/config/filters.ts, routing-instances.ts).
  // Other families, ...: refused; routing policy changes nothing xdpfw enforces.
  firewall: { ...FIREWALL_SCHEMA, others: 'refused' },
  'policy-options': { ...POLICY_OPTIONS_SCHEMA, others: 'ignored' },
  'routing-instances': ROUTING_INSTANCES_SCHEMA,
  // The pair: keepalived and conntrackd configuration generated from it (lib/ha/).
  'high-availability': HA_SCHEMA,
});

// A group holds statements of any part of the hierarchy, with wildcard names (`<ge-*>`).
(SCHEMA.children.get('groups') as Container).wildcard = { label: 'group name', shape: SCHEMA };
