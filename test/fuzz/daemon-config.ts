// The configuration the daemon fuzz targets run: every policy action by
// destination (the server's /26 permitted, the next deny, the upper half
// reject; the same split of fd00:2::/64) and input filters on trust0 with
// discard, reject and log terms. The normal flow the tests check after
// fuzzing (udp to the server, port 5002) is permitted and passes the filters.
import { ADDR } from '../helpers/topology.js';

/** Ports the filters and flows use: the frame generator favours them. */
export const FILTER_PORTS = { discard: 7, reject: 9, log: 13, echo: 5002 } as const;

function filter(family: 'inet' | 'inet6'): string {
  const proto = family === 'inet6' ? 'next-header' : 'protocol';
  const icmp = family === 'inet6' ? 'icmp6' : 'icmp';
  return `
        filter in-${family} {
            term discard { from { ${proto} udp; destination-port ${FILTER_PORTS.discard}; } then { discard; log; } }
            term reject { from { ${proto} tcp; destination-port ${FILTER_PORTS.reject}; } then { reject; log; } }
            term reject-udp { from { ${proto} udp; destination-port ${FILTER_PORTS.reject}; } then { reject port-unreachable; } }
            term log { from { ${proto} [ tcp udp ]; destination-port ${FILTER_PORTS.log}; } then { log; count logged; accept; } }
            term ping { from { ${proto} ${icmp}; } then { log; accept; } }
            term rest { then accept; }
        }`;
}

export function fuzzDaemonConfig(): string {
  return `
interfaces {
    trust0 { unit 0 { family inet { filter { input in-inet; } } family inet6 { filter { input in-inet6; } } } }
}
firewall {
    family inet {${filter('inet')}
    }
    family inet6 {${filter('inet6')}
    }
}
security {
    zones {
        security-zone trust { interfaces { trust0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { untrust0; } }
    }
    address-book global {
        address permit4 10.2.0.0/26;
        address deny4 10.2.0.64/26;
        address reject4 10.2.0.128/25;
        address permit6 fd00:2::/66;
        address deny6 fd00:2:0:0:4000::/66;
        address reject6 fd00:2:0:0:8000::/65;
        address-set permitted { address permit4; address permit6; }
        address-set denied { address deny4; address deny6; }
        address-set rejected { address reject4; address reject6; }
    }
    policies {
        from-zone trust to-zone untrust {
            policy permit-out { match { source-address any; destination-address permitted; application any; } then { permit; log { session-init; } } }
            policy deny-out { match { source-address any; destination-address denied; application any; } then { deny; log { session-init; } } }
            policy reject-out { match { source-address any; destination-address rejected; application any; } then { reject; } }
        }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp-closing 1; udp 60; icmp 60; } }
}
`;
}

/** Addresses of the server subnet under each policy action (all inside the test's subnets). */
export const POLICY_TARGETS = {
  permit4: [ADDR.server4, '10.2.0.9'],
  deny4: ['10.2.0.70', '10.2.0.100'],
  reject4: ['10.2.0.130', '10.2.0.200'],
  permit6: [ADDR.server6, 'fd00:2::9'],
  deny6: ['fd00:2::4000:0:0:1', 'fd00:2::5000:0:0:9'],
  reject6: ['fd00:2::8000:0:0:1', 'fd00:2::ffff:0:0:9'],
} as const;
