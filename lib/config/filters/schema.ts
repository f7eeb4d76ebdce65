import { container, flag, leaf, list, named, one, type Container } from '../schema-types.js';
import { FILTER_REJECT_REASONS } from './model.js';
import { FRAGMENTATION_NEEDED } from './actions.js';

const exceptable = leaf({ kind: 'optional', oneOf: ['except'] });
const prefixes = container({}, { wildcard: { label: 'IP prefix', shape: exceptable } });
const prefixLists = container({}, { wildcard: { label: 'prefix-list name', shape: exceptable } });

const term = container(
  {
    from: container({
      'source-address': prefixes,
      'destination-address': prefixes,
      'source-prefix-list': prefixLists,
      'destination-prefix-list': prefixLists,
      protocol: list('protocol'),
      'next-header': list('protocol'),
      'source-port': list('port'),
      'destination-port': list('port'),
      port: list('port'),
      'icmp-type': list('ICMP type'),
      'icmp-code': list('ICMP code'),
      'tcp-flags': one('tcp-flags expression'),
      'tcp-initial': flag,
      'tcp-established': flag,
      'is-fragment': flag,
      dscp: list('DSCP value'),
      'traffic-class': list('DSCP value'),
      'packet-length': list('packet length'),
      ttl: list('TTL'),
      'hop-limit': list('hop limit'),
      'fragment-offset': list('fragment offset'),
    }),
    then: container({
      accept: flag,
      discard: flag,
      reject: leaf({ kind: 'optional', oneOf: [...FILTER_REJECT_REASONS, FRAGMENTATION_NEEDED] }),
      'routing-instance': one('routing instance name'),
      log: flag,
      syslog: flag,
      count: one('counter name'),
      policer: one('policer name'),
    }),
  },
  { keys: [named('term name')], unique: 'term' },
);

const filter = container({ term }, { keys: [named('filter name')], unique: 'filter' });

const policer = container(
  {
    'if-exceeding': container({ 'bandwidth-limit': one('bandwidth in bits per second'), 'burst-size-limit': one('burst size in bytes') }),
    then: container({ discard: flag }),
  },
  { keys: [named('policer name')], unique: 'policer' },
);

/**
 * `firewall { family inet|inet6 { filter F { term T { ... } } } filter F { ... } policer P { ... } }`
 * (`filter` without a family is family inet's).
 */
export const FIREWALL_SCHEMA: Container = container({
  family: container({ filter }, { keys: [{ label: 'address family', oneOf: ['inet', 'inet6'] }] }),
  filter,
  policer,
});

/** `policy-options { prefix-list L { P; ... } }`. */
export const POLICY_OPTIONS_SCHEMA: Container = container({
  'prefix-list': container({}, { keys: [named('prefix-list name')], unique: 'prefix-list', wildcard: { label: 'IP prefix', shape: leaf({ kind: 'none' }) } }),
});
