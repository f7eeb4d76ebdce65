import { container, flag, list, named, one, unsupported, type Container } from '../config/schema-types.js';

/**
 * `high-availability`: a pair of boxes in the shape of Junos multinode high availability
 * (its `chassis high-availability` statements without the chassis level), validated by
 * lib/ha/config.ts. keepalived and conntrackd do the work (lib/ha/keepalived.ts, conntrackd.ts).
 */
export const HA_SCHEMA: Container = container(
  {
    'local-id': container({ 'local-ip': one('IP address') }, { keys: [named('local node id')], unique: 'local-id', others: 'refused' }),
    'peer-id': container(
      {
        'peer-ip': one('IP address'),
        interface: one('interface name'),
        'liveness-detection': container({ 'minimum-interval': one('number of milliseconds'), multiplier: unsupported('ignored') }, { others: 'refused' }),
        // Junos's IPsec protection of the link: the operator's business here.
        'vpn-profile': unsupported('ignored'),
      },
      { keys: [named('peer node id')], unique: 'peer-id', others: 'refused' },
    ),
    'services-redundancy-group': container(
      {
        'peer-id': list('peer node id'),
        'virtual-ip': container(
          { ip: one('IP prefix'), interface: one('interface name') },
          { keys: [named('virtual IP id')], unique: 'virtual-ip', others: 'refused' },
        ),
        'activeness-priority': one('priority'),
        preemption: flag,
        // The Junos deployment types (routing, switching, hybrid) all come down to VIPs here.
        'deployment-type': unsupported('ignored'),
        'activeness-probe': unsupported('refused'),
        monitor: unsupported('refused'),
      },
      { keys: [named('services redundancy group id')], unique: 'services-redundancy-group', others: 'refused' },
    ),
  },
  { others: 'refused' },
);
