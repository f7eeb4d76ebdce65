// Junos interface names through an interface map, and a trunk whose VLAN
// units are zones of their own: client's VLAN 100 (zone v100) and far's VLAN
// 200 (zone v200) share the firewall's trust0 as an 802.1Q trunk; untrust0 is
// ge-0/0/1.0. Real traffic through the real daemon. Needs a kernel with
// 802.1Q VLAN devices (CONFIG_VLAN_8021Q); skipped, saying so, without.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, Topology } from '../helpers/topology.js';

const V100 = { client: '10.100.0.2', fw: '10.100.0.1' };
const V200 = { far: '10.200.0.2', fw: '10.200.0.1' };
const V300 = { client: '10.30.0.2', fw: '10.30.0.1' };

const CONFIG = (extraZone = '') => `
interfaces {
    ge-0/0/0 {
        vlan-tagging;
        unit 100 { vlan-id 100; family inet { address ${V100.fw}/24; } }
        unit 200 { vlan-id 200; family inet { address ${V200.fw}/24; } }
    }
    ge-0/0/1 { unit 0 { family inet { address ${ADDR.fwUntrust4}/24; } } }
}
security {
    zones {
        security-zone v100 { interfaces { ge-0/0/0.100; } host-inbound-traffic { system-services { ping; } } }
        security-zone v200 { interfaces { ge-0/0/0.200; } }
        security-zone untrust { interfaces { ge-0/0/1.0; } }${extraZone}
    }
    policies {
        from-zone v100 to-zone v200 {
            policy v100-to-v200 { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        from-zone v100 to-zone untrust {
            policy v100-out { match { source-address any; destination-address any; application any; } then { permit; } }
        }
        default-policy { deny-all; }
    }
}
`;

interface TcpResult { ok: boolean; received?: number; error?: string }
interface Status { interfaces: Array<{ name: string; zone: string | null; xdpMode: string }> }
interface Counters { drops: Record<string, number>; xdp: Record<string, { packets: number }> }
interface SessionJson { fromZone: string; toZone: string; policy: string }

/** Why this kernel cannot run the test (no VLAN devices), or null. */
function vlanUnsupported(): string | null {
  const ns = `xfwvlan${process.pid.toString(36)}`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'ignore' });
    execFileSync('ip', ['-n', ns, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1'], { stdio: 'ignore' });
    execFileSync('ip', ['-n', ns, 'link', 'add', 'link', 'a0', 'name', 'a0.5', 'type', 'vlan', 'id', '5'], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `this kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  } finally {
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not made */ }
  }
}

const unsupported = vlanUnsupported();
if (unsupported) t.comment(`skipped: ${unsupported}`);
const skip = unsupported ?? false;

let topo: Topology;

t.before(async () => {
  if (unsupported) return;
  topo = await Topology.create();
  const far = topo.ns.far;
  await topo.sh('fw', [
    'ip link add link trust0 name trust0.100 type vlan id 100', 'ip link add link trust0 name trust0.200 type vlan id 200',
    `ip addr add ${V100.fw}/24 dev trust0.100`, `ip addr add ${V200.fw}/24 dev trust0.200`,
    'ip link set trust0.100 up', 'ip link set trust0.200 up',
  ].join(' && '));
  // VLAN 200 lives in a namespace of its own (far), so client and far talk only through the firewall.
  await topo.sh('client', [
    'ip link add link eth0 name v100 type vlan id 100', `ip addr add ${V100.client}/24 dev v100`, 'ip link set v100 up',
    'ip link add link eth0 name v300 type vlan id 300', `ip addr add ${V300.client}/24 dev v300`, 'ip link set v300 up',
    `ip route replace default via ${V100.fw}`,
  ].join(' && '));
  execFileSync('ip', ['netns', 'add', far]);
  await topo.sh('client', `ip link add link eth0 name v200 type vlan id 200 && ip link set v200 netns ${far}`);
  await topo.sh('far', `ip link set lo up && ip addr add ${V200.far}/24 dev v200 && ip link set v200 up && ip route add default via ${V200.fw}`);
  await topo.startTraffic('far', ['tcp-sink', '--port', '5001']);
  await topo.startTraffic('far', ['udp-echo', '--port', '5002']);
  await topo.startTraffic('client', ['tcp-sink', '--port', '5003']);
  await topo.startTraffic('server', ['tcp-sink', '--port', '5001']);
});

t.teardown(async () => topo?.destroy());

const mapFile = () => {
  const path = join(topo.stateDir, 'interfaces.map');
  writeFileSync(path, '# this box\nge-0/0/0 trust0\nge-0/0/1 untrust0\n');
  return path;
};

const send = (from: 'client' | 'far' | 'server', host: string, port: number) =>
  topo.traffic<TcpResult>(from, ['tcp-send', '--host', host, '--port', String(port), '--bytes', '1000', '--timeout', '3000']);

t.test('a config naming ge-0/0/0.100 loads with an interface map, each VLAN unit its own zone', { skip }, async (t) => {
  const conf = topo.writeConfig(CONFIG());
  const check = await topo.xdpfw(['check', '-c', conf]);
  t.match(check.stderr, /interface 'ge-0\/0\/1\.0' is not mapped to a Linux interface/, 'without the map, check names the unmapped interface');
  t.ok((await topo.xdpfw(['check', '-c', conf, '--interface-map', mapFile()])).code === 0, 'with it, check succeeds');
  const load = await topo.xdpfw(['load', '-c', conf, '--interface-map', mapFile()]);
  t.equal(load.code, 0, load.stderr);
  const status = await topo.xdpfwJson<Status>(['status']);
  const modes = Object.fromEntries(status.interfaces.map((i) => [i.name, [i.zone, i.xdpMode]]));
  t.same(modes, {
    'trust0.100': ['v100', 'generic'], 'trust0.200': ['v200', 'generic'], untrust0: ['untrust', 'native'], trust0: [null, 'native'],
  }, 'units on their VLAN devices, the trunk in no zone');
});

t.test('v100 -> v200 is permitted, v200 -> v100 denied, on one trunk', { skip }, async (t) => {
  const out = await send('client', V200.far, 5001);
  t.match(out, { ok: true, received: 1000 }, 'client (VLAN 100) reaches far (VLAN 200)');
  const back = await send('far', V100.client, 5003);
  t.equal(back.ok, false, 'far (VLAN 200) cannot reach client (VLAN 100): no policy from v200 to v100');
  // A UDP flow stays in the session table (a TCP one may be gone once closed).
  const echo = await topo.traffic<{ received: number }>('client', ['udp-ping', '--host', V200.far, '--port', '5002', '--count', '3', '--timeout', '1000']);
  t.equal(echo.received, 3, 'UDP from VLAN 100 to VLAN 200 and its replies');
  const sessions = await topo.xdpfwJson<SessionJson[]>(['show', 'sessions']);
  t.ok(sessions.some((s) => s.fromZone === 'v100' && s.toZone === 'v200' && s.policy === 'v100-to-v200'), `the session is v100 -> v200: ${JSON.stringify(sessions)}`);
  const counters = await topo.xdpfwJson<Counters>(['show', 'counters']);
  t.ok((counters.drops.policy_deny ?? 0) >= 1, 'the denied SYN is counted as a policy deny');
  t.ok((counters.xdp.vlanToUnit?.packets ?? 0) > 0, 'tagged frames of the units passed the trunk');
});

t.test('ge-0/0/1.0 forwards: VLAN 100 to the untrust side', { skip }, async (t) => {
  t.match(await send('client', ADDR.server4, 5001), { ok: true, received: 1000 });
});

t.test('a VLAN no unit owns, and untagged frames, are dropped and counted on the trunk', { skip }, async (t) => {
  const before = (await topo.xdpfwJson<Counters>(['show', 'counters'])).drops.vlan_no_unit ?? 0;
  const r300 = await topo.exec('client', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', V300.fw]);
  t.not(r300.code, 0, 'VLAN 300 gets no answer');
  const untagged = await topo.exec('client', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-I', 'eth0', ADDR.fwTrust4]);
  t.not(untagged.code, 0, 'untagged gets no answer');
  const after = (await topo.xdpfwJson<Counters>(['show', 'counters'])).drops.vlan_no_unit ?? 0;
  t.ok(after >= before + 2, `vlan_no_unit counted (${before} -> ${after})`);
  const ok = await topo.exec('client', 'ping', ['-4', '-n', '-c', '1', '-W', '2', V100.fw]);
  t.equal(ok.code, 0, 'the unit itself still answers (host-inbound ping in v100)');
});

t.test('an unmapped interface in a zone: reload refused at its statement, the running config stays', { skip }, async (t) => {
  const conf = topo.writeConfig(CONFIG('\n        security-zone dmz { interfaces { ge-0/0/5.0; } }'));
  const r = await topo.xdpfw(['reload', '-c', conf]);
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:15:42: interface 'ge-0/0/5\\.0' is not mapped to a Linux interface: add a line 'ge-0/0/5 <linux-interface>' to the interface map`));
  t.match(r.stderr, /the running one stays/);
  t.match(await send('client', V200.far, 5001), { ok: true, received: 1000 }, 'still forwarding by the running config');
  t.equal((await send('far', V100.client, 5003)).ok, false, 'and still denying');
});
