import { ALL, EXCEPT, HOST_PROTOCOLS, SYSTEM_SERVICES } from './host-inbound-services.js';
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
        },
        { keys: [named('zone name')], unique: 'security-zone' },
      ),
    }),
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
});
