// End to end, real daemon, real ARP and neighbour discovery: `security nat
// proxy-arp` / `proxy-ndp` on the untrust interface make the server resolve
// addresses the firewall does not hold to the firewall's MAC address (what NAT
// pool and static addresses on a shared segment need); others stay unresolved;
// the answers are counted; a reload without them stops them.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { NeighborProxyReport } from '../../lib/nat/proxy-report.js';
import { Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
let fwMac = '';

const PROXIES = `
    nat {
        proxy-arp { interface untrust0 { address { 10.2.0.50/32 to 10.2.0.52/32; } } }
        proxy-ndp { interface untrust0 { address { fd00:2::50/128; } } }
    }
    flow {`;
const withProxies = (): string => basicConfig().replace('\n    flow {', PROXIES);

t.before(async () => {
  topo = await Topology.create();
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(withProxies())]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  fwMac = (JSON.parse(await topo.sh('fw', 'ip -j link show dev untrust0')) as Array<{ address: string }>)[0]!.address;
});

t.teardown(async () => {
  await topo?.destroy();
});

/** The server's neighbour entry for `addr` after it tried to reach it: its MAC address, or null when unresolved. */
async function resolved(addr: string): Promise<string | null> {
  const v6 = addr.includes(':');
  await topo.sh('server', `ip ${v6 ? '-6 ' : ''}neigh flush dev eth0`);
  await topo.sh('server', `ping ${v6 ? '-6 ' : ''}-c 1 -W 1 ${addr} >/dev/null 2>&1 || true`);
  const entries = JSON.parse(await topo.sh('server', `ip -j ${v6 ? '-6 ' : ''}neigh show ${addr} dev eth0`)) as Array<{ lladdr?: string }>;
  return entries[0]?.lladdr ?? null;
}

const counters = () => topo.xdpfwJson<CountersReport>(['show', 'counters']);

t.test('the server resolves proxied addresses to the firewall', async (t) => {
  const before = await counters();
  for (const addr of ['10.2.0.50', '10.2.0.52', 'fd00:2::50']) t.equal(await resolved(addr), fwMac, `${addr}: the firewall's untrust0 MAC`);
  const after = await counters();
  t.ok(after.xdp.proxyArpAnswer!.packets - (before.xdp.proxyArpAnswer?.packets ?? 0) >= 2, 'ARP answers counted in show counters');
  t.ok(after.xdp.proxyNdpAnswer!.packets - (before.xdp.proxyNdpAnswer?.packets ?? 0) >= 1, 'NDP answers counted');
});

t.test('show nat proxy-arp / proxy-ndp list what is answered for, with the answers counted', async (t) => {
  const arp = await topo.xdpfwJson<NeighborProxyReport>(['show', 'nat', 'proxy-arp']);
  t.same(arp.proxyArp?.entries, [{ interface: 'untrust0', first: '10.2.0.50', last: '10.2.0.52', addresses: 3 }], '--json: the IPv4 range');
  t.ok((arp.proxyArp?.answered ?? 0) >= 2, 'with the requests answered');
  t.equal(arp.proxyNdp, undefined, 'only the part asked for');
  const both = await topo.xdpfw(['show', 'nat']);
  t.equal(both.code, 0, both.stderr);
  t.match(both.stdout, /Proxy ARP: 3 addresses, \d+ requests answered\n.*Interface.*\n  untrust0 +10\.2\.0\.50 - 10\.2\.0\.52\n/, 'human form: ARP');
  t.match(both.stdout, /Proxy NDP: 1 addresses, \d+ requests answered\n.*\n  untrust0 +fd00:2::50\n/, 'human form: NDP');
});

t.test('addresses not proxied stay unresolved', async (t) => {
  t.equal(await resolved('10.2.0.53'), null, 'just past the range');
  t.equal(await resolved('fd00:2::51'), null, 'IPv6');
});

t.test('a reload without the proxies stops the answers', async (t) => {
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(basicConfig())]);
  t.equal(r.code, 0, r.stderr);
  t.equal(await resolved('10.2.0.50'), null, 'IPv4 no longer answered');
  t.equal(await resolved('fd00:2::50'), null, 'IPv6 no longer answered');
});
