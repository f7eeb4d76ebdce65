// A configuration as Junos prints it, end to end: groups, an interface's own host-inbound-traffic
// and statements xdpfw does not implement (refused, or loaded without them when told so).
import { writeFileSync } from 'node:fs';
import t from 'tap';
import type { StatusReport } from '../../lib/daemon/reports.js';
import { ADDR, Topology } from '../helpers/topology.js';

const JUNOS = `## Last commit: 2024-05-01 10:00:00 UTC by admin
version 21.4R3-S5.4;
groups {
    every-zone {
        security {
            zones {
                security-zone <*> {
                    host-inbound-traffic {
                        system-services {
                            ping;
                        }
                    }
                }
            }
        }
    }
}
apply-groups every-zone;
system {
    login {
        user admin {
            uid 2000;
            class super-user;
        }
    }
}
security {
    address-book {
        global {
            address server ${ADDR.server4}/32;
        }
    }
    nat {
        destination {
            pool web { address { ${ADDR.server4}/32; } }
            rule-set in {
                from zone untrust;
                rule web { match { destination-address ${ADDR.fwUntrust4}/32; } then { destination-nat { pool { web; } } } }
            }
        }
    }
    zones {
        security-zone trust {
            interfaces {
                trust0;
            }
        }
        security-zone untrust {
            interfaces {
                /* the uplink answers ssh only */
                untrust0 {
                    host-inbound-traffic {
                        system-services {
                            ssh;
                        }
                    }
                }
            }
        }
    }
    policies {
        from-zone trust to-zone untrust {
            policy to-server {
                match { source-address any; destination-address server; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
`.replace(/\n/g, '\r\n');

let topo: Topology;
let path: string;
t.before(async () => {
  topo = await Topology.create();
  path = topo.writeConfig(JUNOS);
});
t.teardown(() => topo?.destroy());

const received = async (host: 'client' | 'server', dst: string): Promise<boolean> =>
  /[1-9] received/.test((await topo.exec(host, 'ping', ['-c', '1', '-W', '2', dst])).stdout);

t.test('check names each unsupported hierarchy once, with its place', async (t) => {
  const strict = await topo.xdpfw(['check', '-c', path]);
  t.not(strict.code, 0, 'NAT refuses the config');
  t.match(strict.stderr, /xdpfw\.conf:34:9: security nat destination not supported; it changes what passes or how/);
  t.match(strict.stderr, /xdpfw\.conf:20:5: system login not supported\n/);
  t.equal(strict.stderr.match(/not supported/g)?.length, 2, 'one line each: the warning and the refusal');
  const ignoring = await topo.xdpfw(['check', '-c', path, '--ignore-unsupported']);
  t.equal(ignoring.code, 0, ignoring.stderr);
  t.match(ignoring.stderr, /security nat destination not supported\n/);
});

t.test('load is refused without --ignore-unsupported, and loads with it', async (t) => {
  const refused = await topo.xdpfw(['load', '-c', path]);
  t.not(refused.code, 0);
  t.match(refused.stderr, /security nat destination not supported/);
  const loaded = await topo.xdpfw(['load', '-c', path, '--ignore-unsupported']);
  t.equal(loaded.code, 0, loaded.stderr);
  const status = await topo.xdpfwJson<StatusReport>(['status']);
  t.same(status.configWarnings.map((w) => w.replace(/^.*xdpfw\.conf:/, '')), ['20:5: system login not supported', '34:9: security nat destination not supported']);
  t.match((await topo.xdpfw(['status'])).stdout, /Configuration not applied \(2\):\n {2}\S+xdpfw\.conf:20:5: system login not supported/);
});

t.test('the group and the interface override decide what reaches the box', async (t) => {
  t.ok(await received('client', ADDR.server4), 'the policy permits client to server');
  t.ok(await received('client', ADDR.fwTrust4), 'trust answers ping: the group gives it to every zone');
  t.notOk(await received('server', ADDR.fwUntrust4), "untrust0's own host-inbound-traffic (ssh only) overrides the zone's ping");
});

t.test('reload asks again; show config re-checks without the flag', async (t) => {
  const refused = await topo.xdpfw(['reload', '-c', path]);
  t.not(refused.code, 0);
  t.match(refused.stderr, /security nat destination not supported/);
  t.ok(await received('client', ADDR.fwTrust4), 'the running config stays');
  const reloaded = await topo.xdpfw(['reload', '-c', path, '--ignore-unsupported']);
  t.equal(reloaded.code, 0, reloaded.stderr);
  const shown = await topo.xdpfw(['show', 'config']);
  t.equal(shown.code, 0, shown.stderr);
  t.notMatch(shown.stdout, /\bnat\b|\blogin\b|apply-groups/, 'the running tree: groups applied, unsupported statements left out');
  const again = `${path}.shown`;
  writeFileSync(again, shown.stdout);
  const check = await topo.xdpfw(['check', '-c', again]);
  t.equal(check.code, 0, check.stderr);
  await topo.xdpfw(['unload']);
});
