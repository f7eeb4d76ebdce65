// A trunk's xdpfw_rx under BPF_PROG_RUN: frames tagged with a VLAN one of its
// zone units owns go on to the kernel (the unit's VLAN device judges them);
// any other VLAN, an 802.1ad outer tag, or no tag at all is dropped and counted.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { readVlanUnits, trunkFlag, writeVlanUnits } = await import('../../lib/dataplane/vlan-units.js');
const { frame } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_PASS } = await import('../../lib/dataplane/xdp-abi.js');

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
t.teardown(() => {
  dp.close();
  purgePins(paths);
});

const trunk = native.ifNameToIndex('in0');
const unit = native.ifNameToIndex('out0'); // stands for the unit's VLAN device: only its ifindex is stored
const TRUNK = trunkFlag(dp.objectPath);
const unitsFd = dp.mapFd('xdpfw_vlan_units');
dp.registerPort(trunk, 0, 0, TRUNK);
writeVlanUnits(unitsFd, [{ trunkIfindex: trunk, vlanId: 100, unitIfindex: unit }]);

const udp = { src: '10.100.0.2', dst: '10.200.0.2', protocol: 'udp' as const, sport: 1000, dport: 53 };

function run(data: Buffer): { verdict: number; counted: Record<string, number> } {
  const before = dp.readCounters();
  const out = native.progTestRun(dp.progs.rx, { data, ifindex: trunk, rxQueue: 0, dataOutSize: data.length + 64 });
  const counted: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) counted[name] = d;
  }
  return { verdict: out.retval, counted };
}

t.test('a unit\'s VLAN passes to the kernel, counted', async (t) => {
  t.same(run(frame({ ...udp, vlans: [100] })), { verdict: XDP_PASS, counted: { VLAN_TO_UNIT: 1 } });
  // The priority bits are not the VLAN.
  const pcp = frame({ ...udp, vlans: [100] });
  pcp.writeUInt16BE(0xa000 | 100, 14);
  t.same(run(pcp), { verdict: XDP_PASS, counted: { VLAN_TO_UNIT: 1 } }, 'with a priority (PCP) set');
});

t.test('any other VLAN, untagged, 802.1ad or truncated: dropped and counted', async (t) => {
  const dropped = { verdict: XDP_DROP, counted: { DROP_VLAN_UNKNOWN: 1 } };
  t.same(run(frame({ ...udp, vlans: [300] })), dropped, 'VLAN 300: no unit');
  t.same(run(frame({ ...udp, vlans: [200] })), dropped, 'VLAN 200: no unit');
  t.same(run(frame(udp)), dropped, 'untagged');
  t.same(run(frame({ ...udp, vlans: [100, 100] })), dropped, '802.1ad outer tag (QinQ)');
  const cut = frame({ ...udp, vlans: [100] }).subarray(0, 15);
  t.same(run(cut), dropped, 'a tag cut short');
});

t.test('the same frames on an interface that is no trunk are not judged by VLAN', async (t) => {
  dp.setInterfaceZone(trunk, 0, 0, 0);
  t.teardown(() => dp.setInterfaceZone(trunk, 0, 0, TRUNK));
  const r = run(frame({ ...udp, vlans: [300] }));
  t.notOk('DROP_VLAN_UNKNOWN' in r.counted || 'VLAN_TO_UNIT' in r.counted, JSON.stringify(r.counted));
});

t.test('units replaced as a reload does: the old VLAN drops, the new one passes', async (t) => {
  writeVlanUnits(unitsFd, [{ trunkIfindex: trunk, vlanId: 200, unitIfindex: unit }]);
  t.same(readVlanUnits(unitsFd), [{ trunkIfindex: trunk, vlanId: 200, unitIfindex: unit }]);
  t.same(run(frame({ ...udp, vlans: [100] })).counted, { DROP_VLAN_UNKNOWN: 1 });
  t.same(run(frame({ ...udp, vlans: [200] })).counted, { VLAN_TO_UNIT: 1 });
  writeVlanUnits(unitsFd, []);
  t.same(readVlanUnits(unitsFd), []);
  t.same(run(frame({ ...udp, vlans: [200] })).counted, { DROP_VLAN_UNKNOWN: 1 });
});
