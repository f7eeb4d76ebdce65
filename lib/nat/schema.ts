import { container, flag, leaf, list, named, one, unsupported, type Container, type Shape } from '../config/schema-types.js';

/**
 * `security nat`: the Junos statements of source, destination and static NAT and of proxy
 * ARP/NDP that xdpfw validates (lib/nat/config.ts). Junos statements not listed are kept
 * as unsupported (`others: 'refused'`).
 */

const description = one('description text');

/** `to LAST` after the first value of a range (`1.0.0.1 to 1.0.0.9`, `100 to 200`). */
const to = (label: string): Shape => leaf({ kind: 'none' }, { keys: [named(label)] });

/** Entries `A;` or `A to B;`, one per line (`address { 10.0.0.1/32 to 10.0.0.9/32; }`, `destination-port { 80; }`). */
function ranges(label: string, lastLabel: string): Container {
  return container({}, { wildcard: { label, shape: container({ to: to(lastLabel) }) } });
}

/** `from zone|interface|routing-instance [ ... ]`, and `to` of source rule-sets. */
const context = container({
  zone: list('zone name'),
  interface: list('interface name'),
  'routing-instance': list('routing instance name'),
});

/** `pool { NAME; }` of a rule's `then`: one name; Junos options after it are not implemented. */
const poolRef = container({ 'persistent-nat': unsupported('refused'), 'rule-session-count-alarm': unsupported('ignored') }, { wildcard: { label: 'pool name', shape: flag } });

const addresses = {
  'source-address': list('IP prefix'),
  'source-address-name': list('address name'),
  'destination-address': list('IP prefix'),
  'destination-address-name': list('address name'),
};

const ports = {
  'source-port': ranges('port', 'highest port'),
  'destination-port': ranges('port', 'highest port'),
  protocol: list('protocol'),
};

function rule(match: Record<string, Shape>, then: Container): Container {
  return container({ description, match: container(match, { others: 'refused' }), then }, { keys: [named('rule name')], unique: 'rule', others: 'refused' });
}

function ruleSet(withTo: boolean, r: Container): Container {
  return container(
    { description, from: context, ...(withTo ? { to: context } : {}), rule: r },
    { keys: [named('rule-set name')], unique: 'rule-set', others: 'refused' },
  );
}

const sourcePool = container(
  {
    description,
    address: ranges('IP prefix', 'last address'),
    port: container(
      {
        'no-translation': flag,
        range: container({ to: to('highest port') }, { keys: [named('lowest port')], others: 'refused' }),
      },
      { others: 'refused' }, // block-allocation, deterministic, port-overloading-factor
    ),
    'overflow-pool': one('pool name or interface'),
    'host-address-base': one('IP address'),
    'address-pooling': one('paired or no-paired'),
    'routing-instance': one('routing instance name'),
  },
  { keys: [named('pool name')], unique: 'source pool', others: 'refused' },
);

const destinationPool = container(
  {
    description,
    address: container({}, { wildcard: { label: 'IP address', shape: container({ to: to('last address'), port: one('port number') }) } }),
    'routing-instance': one('routing instance name'),
  },
  { keys: [named('pool name')], unique: 'destination pool', others: 'refused' },
);

/** `static-nat prefix { P; routing-instance RI; }` and `prefix-name { N; ... }`. */
const staticTarget = (label: string): Container =>
  container({ 'routing-instance': one('routing instance name'), 'mapped-port': unsupported('refused') }, { wildcard: { label, shape: flag } });

const proxy = container({
  interface: container({ address: ranges('IP prefix', 'last address') }, { keys: [named('interface name')] }),
});

export const NAT_SCHEMA: Container = container(
  {
    source: container(
      {
        pool: sourcePool,
        'rule-set': ruleSet(true, rule(
          { ...addresses, ...ports, application: list('application name') },
          container({ 'source-nat': container({ off: flag, interface: container({}, { others: 'refused' }), pool: poolRef }) }),
        )),
        'address-persistent': flag,
        'pool-default-port-range': container({ to: to('highest port') }, { keys: [named('lowest port')] }),
        'pool-utilization-alarm': unsupported('ignored'),
      },
      { others: 'refused' },
    ),
    destination: container(
      {
        pool: destinationPool,
        'rule-set': ruleSet(false, rule(
          { ...addresses, ...ports, application: list('application name') },
          container({ 'destination-nat': container({ off: flag, pool: poolRef }) }),
        )),
      },
      { others: 'refused' },
    ),
    static: container(
      {
        'rule-set': ruleSet(false, rule(
          {
            'destination-address': one('IP prefix'),
            'destination-address-name': one('address name'),
            'source-address': list('IP prefix'),
            'source-address-name': list('address name'),
            'source-port': ranges('port', 'highest port'),
          },
          container({
            'static-nat': container(
              { prefix: staticTarget('IP prefix'), 'prefix-name': staticTarget('address name'), inet: container({ 'routing-instance': one('routing instance name') }) },
              { others: 'refused' }, // nptv6-prefix, ...
            ),
          }),
        )),
      },
      { others: 'refused' },
    ),
    'proxy-arp': proxy,
    'proxy-ndp': proxy,
  },
  { others: 'refused' }, // natv6v4, traceoptions, ...
);
