// A configuration written with Junos interface names (ge-0/0/0.0) loads
// unchanged with an interface map, forwards by its policies, and a reload
// naming an interface the map lacks is refused at that interface's statement
// while the running configuration goes on.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, Topology } from '../helpers/topology.js';

const CONFIG = (extraZone = '') => `
interfaces {
    ge-0/0/0 { unit 0 { family inet { address ${ADDR.fwTrust4}/24; } } }
    ge-0/0/1 { unit 0 { family inet { address ${ADDR.fwUntrust4}/24; } } }
}
security {
    zones {
        security-zone trust { interfaces { ge-0/0/0.0; } host-inbound-traffic { system-services { ping; } } }
        security-zone untrust { interfaces { ge-0/0/1.0; } }${extraZone}
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        default-policy { deny-all; }
    }
}
`;

interface TcpResult { ok: boolean; received?: number; error?: string }
interface Status { interfaces: Array<{ name: string; zone: string | null }> }
interface Counters { drops: Record<string, number>; sessions: { created: number } }

let topo: Topology;
let map: string;

t.before(async () => {
  topo = await Topology.create();
  map = join(topo.stateDir, 'interfaces.map');
  writeFileSync(map, '# this box\nge-0/0/0 trust0\nge-0/0/1 untrust0   # uplink\n');
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('client', ['tcp-sink', '--port', '5003']);
});
t.teardown(async () => topo?.destroy());

const send = (from: 'client' | 'server', host: string, port: number) =>
  topo.traffic<TcpResult>(from, ['tcp-send', '--host', host, '--port', String(port), '--bytes', '1000', '--timeout', '3000']);

t.test('check: unmapped Junos names are named at their zone statement; with the map the config checks', async (t) => {
  const conf = topo.writeConfig(CONFIG());
  // Without a map, check judges the language: the names it cannot place here are warnings.
  const bare = await topo.xdpfw(['check', '-c', conf]);
  t.equal(bare.code, 0, 'the language checks');
  t.match(bare.stderr, `${conf}:8:44: interface 'ge-0/0/0.0' is not mapped to a Linux interface: map it with --interface-map FILE (a line 'ge-0/0/0 <linux-interface>')`);
  t.match(bare.stderr, `${conf}:9:46: interface 'ge-0/0/1.0' is not mapped`);
  // With a map, every zone member must be on this box.
  const partial = join(topo.stateDir, 'partial.map');
  writeFileSync(partial, 'ge-0/0/0 trust0\n');
  const lacking = await topo.xdpfw(['check', '-c', conf, '--interface-map', partial]);
  t.not(lacking.code, 0, 'a map lacking a zone member: refused');
  t.match(lacking.stderr, `${conf}:9:46: interface 'ge-0/0/1.0' is not mapped to a Linux interface: add a line 'ge-0/0/1 <linux-interface>' to the interface map ${partial}`);
  const mapped = await topo.xdpfw(['check', '-c', conf, '--interface-map', map]);
  t.equal(mapped.code, 0, mapped.stderr);
});

t.test('load with the map: attached to the Linux interfaces, forwarding by the policies', async (t) => {
  const load = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG()), '--interface-map', map]);
  t.equal(load.code, 0, load.stderr);
  t.match(load.stdout, /loaded, .* on trust0 \(ifindex \d+, \w+\), untrust0/);
  const status = await topo.xdpfwJson<Status>(['status']);
  t.same(status.interfaces.map((i) => [i.name, i.zone]), [['trust0', 'trust'], ['untrust0', 'untrust']]);
  t.match(await send('client', ADDR.server4, 5001), { ok: true, received: 1000 }, 'trust -> untrust permitted');
  t.equal((await send('server', ADDR.client4, 5003)).ok, false, 'untrust -> trust denied');
  const counters = await topo.xdpfwJson<Counters>(['show', 'counters']);
  t.ok(counters.sessions.created >= 1, 'a session was created');
  t.ok((counters.drops.policy_deny ?? 0) >= 1, 'the denied SYN counted as a policy deny');
});

t.test('reload naming an unmapped interface: refused at its statement, the running config stays', async (t) => {
  const conf = topo.writeConfig(CONFIG('\n        security-zone dmz { interfaces { xe-0/0/5.0; } }'));
  const r = await topo.xdpfw(['reload', '-c', conf]);
  t.not(r.code, 0);
  t.match(r.stderr, 'the running one stays');
  t.match(r.stderr, `${conf}:10:42: interface 'xe-0/0/5.0' is not mapped to a Linux interface: add a line 'xe-0/0/5 <linux-interface>' to the interface map ${map}`);
  t.match(await send('client', ADDR.server4, 5001), { ok: true, received: 1000 }, 'still forwarding');
  t.equal((await send('server', ADDR.client4, 5003)).ok, false, 'still denying');
  const status = await topo.xdpfwJson<Status>(['status']);
  t.same(status.interfaces.map((i) => [i.name, i.zone]), [['trust0', 'trust'], ['untrust0', 'untrust']]);
});

t.test('reload with the map given again and Linux names mixed in: applied', async (t) => {
  const conf = topo.writeConfig(CONFIG().replace('ge-0/0/1.0;', 'untrust0;'));
  const r = await topo.xdpfw(['reload', '-c', conf, '--interface-map', map]);
  t.equal(r.code, 0, r.stderr);
  t.match(await send('client', ADDR.server4, 5001), { ok: true, received: 1000 });
});
