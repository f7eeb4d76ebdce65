import { ALL, EXCEPT, HOST_PROTOCOLS, SYSTEM_SERVICES } from './host-inbound-services.js';
import { FIREWALL_SCHEMA, POLICY_OPTIONS_SCHEMA } from './filters.js';
import { ROUTING_INSTANCES_SCHEMA } from './routing-instances.js';
import { FORWARDING_OPTIONS_SCHEMA } from './ethertypes.js';
import { container, flag, leaf, list, named, one, type Container, type Shape } from './schema-types.js';

/**
 * The statements xdpfw understands. New parts of the language are added here and in the
 * compiler; the parser never changes.
 */

const description = one('description text');

/** `ssh;`, `telnet except;` (with `all;`), `all;`. */
function hostInboundKeywords(names: Iterable<string>): Container {
  const entry = leaf({ kind: 'optional', oneOf: [EXCEPT] });
  return container(Object.fromEntries([ALL, ...names].map((n): [string, Shape] => [n, entry])));
}

const policy = container(
  {
    description,
    match: container({
      'source-address': list('address name'),
      'destination-address': list('address name'),
      application: list('application name'),
    }),
    then: container({
      permit: flag,
      deny: flag,
      reject: flag,
      log: container({ 'session-init': flag, 'session-close': flag }),
      count: flag,
    }),
  },
  { keys: [named('policy name')], unique: 'policy' },
);

const interfaceUnit = container(
  {
    description,
    family: container(
      {
        address: leaf({ kind: 'none' }, { keys: [named('interface address')] }),
        filter: container({ input: one('filter name'), output: one('filter name') }),
      },
      { keys: [{ label: 'address family', oneOf: ['inet', 'inet6'] }] },
    ),
  },
  { keys: [named('unit number')] },
);

const seconds = one('number of seconds');

const perSecond = one('number per second');
const microseconds = container({ threshold: one('number of microseconds') });

/** `security screen ids-option NAME`: Junos's screens that xdpfw implements (lib/config/screens.ts). */
const idsOption = container(
  {
    description,
    'alarm-without-drop': flag,
    icmp: container({
      flood: container({ threshold: perSecond }),
      fragment: flag,
      'ip-sweep': microseconds,
      'ping-death': flag,
    }),
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
    }),
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
      }),
      'port-scan': microseconds,
    }),
    udp: container({ flood: container({ threshold: perSecond }) }),
    'limit-session': container({
      'source-ip-based': one('number of sessions'),
      'destination-ip-based': one('number of sessions'),
    }),
  },
  { keys: [named('screen name')], unique: 'screen' },
);

export const SCHEMA: Container = container({
  interfaces: container(
    {},
    { wildcard: { label: 'interface name', shape: container({ description, unit: interfaceUnit }, { unique: 'interface' }) } },
  ),
  security: container({
    zones: container({
      'security-zone': container(
        {
          description,
          // An empty container rather than a flag, so `eth0 host-inbound-traffic ...` is
          // reported as unsupported instead of read as more interface names.
          interfaces: container({}, { wildcard: { label: 'interface name', shape: container({}) } }),
          'host-inbound-traffic': container({
            'system-services': hostInboundKeywords(SYSTEM_SERVICES.keys()),
            protocols: hostInboundKeywords(HOST_PROTOCOLS.keys()),
          }),
          screen: one('screen name'),
        },
        { keys: [named('zone name')], unique: 'security-zone' },
      ),
    }),
    screen: container({ 'ids-option': idsOption }),
    'address-book': container(
      {
        description,
        address: leaf({ kind: 'one', label: 'IP prefix' }, { keys: [named('address name')], unique: 'address' }),
        'address-set': container(
          {
            description,
            address: leaf({ kind: 'none' }, { keys: [named('address name')] }),
            'address-set': leaf({ kind: 'none' }, { keys: [named('address-set name')] }),
          },
          { keys: [named('address-set name')], unique: 'address-set' },
        ),
      },
      { keys: [named('address book name')] },
    ),
    policies: container({
      'from-zone': container({ policy }, { keys: [named('zone name'), { label: "'to-zone'", literal: 'to-zone' }, named('zone name')] }),
      global: container({ policy }),
      'default-policy': container({ 'deny-all': flag, 'permit-all': flag }),
    }),
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
      }),
      'slow-path-budget': container({
        capacity: one('packets per second'),
        'per-source': one('packets per second'),
        'tcp-syn': one('packets per second'),
        'new-flow': one('packets per second'),
        exception: one('packets per second'),
        'burst-ms': one('number of milliseconds'),
        'deny-cache-timeout': seconds,
      }),
    }),
    'forwarding-options': FORWARDING_OPTIONS_SCHEMA,
  }),
  system: container({
    'host-name': one('host name'),
    syslog: container({
      host: container(
        { port: one('port number'), transport: one('transport'), format: one('log format') },
        { keys: [named('host address')], unique: 'syslog host' },
      ),
      'file-json': one('file path'),
      'rate-limit': one('number of events per second'),
    }),
    services: container({
      metrics: container({ 'listen-address': one('address'), port: one('port number'), disable: flag }),
    }),
  }),
  applications: container({
    application: container(
      {
        description,
        protocol: one('protocol'),
        'source-port': one('port or port range'),
        'destination-port': one('port or port range'),
        'icmp-type': one('ICMP type'),
        'icmp-code': one('ICMP code'),
        'icmp6-type': one('ICMPv6 type'),
        'icmp6-code': one('ICMPv6 code'),
      },
      { keys: [named('application name')], unique: 'application' },
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
  firewall: FIREWALL_SCHEMA,
  'policy-options': POLICY_OPTIONS_SCHEMA,
  'routing-instances': ROUTING_INSTANCES_SCHEMA,
});
