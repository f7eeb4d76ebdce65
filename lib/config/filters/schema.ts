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
      'icmp-type': list('ICMP type'),
      'icmp-code': list('ICMP code'),
      'tcp-flags': one('tcp-flags expression'),
      'tcp-initial': flag,
      'tcp-established': flag,
      'is-fragment': flag,
      dscp: list('DSCP value'),
      'traffic-class': list('DSCP value'),
      'packet-length': list('packet length'),
    }),
    then: container({
      accept: flag,
      discard: flag,
      reject: leaf({ kind: 'optional', oneOf: [...FILTER_REJECT_REASONS, FRAGMENTATION_NEEDED] }),
      'routing-instance': one('routing instance name'),
      log: flag,
      syslog: flag,
      count: one('counter name'),
    }),
  },
  { keys: [named('term name')], unique: 'term' },
);

/** `firewall { family inet|inet6 { filter F { term T { ... } } } }`. */
export const FIREWALL_SCHEMA: Container = container({
  family: container(
    { filter: container({ term }, { keys: [named('filter name')], unique: 'filter' }) },
    { keys: [{ label: 'address family', oneOf: ['inet', 'inet6'] }] },
  ),
});

/** `policy-options { prefix-list L { P; ... } }`. */
export const POLICY_OPTIONS_SCHEMA: Container = container({
  'prefix-list': container({}, { keys: [named('prefix-list name')], unique: 'prefix-list', wildcard: { label: 'IP prefix', shape: leaf({ kind: 'none' }) } }),
});
