// A trunk's xdpfw_rx and a unit's xdpfw_vlan_tx under BPF_PROG_RUN: frames
// tagged with a VLAN one of the trunk's zone units owns lose the tag and are
// redirected into the unit's internal end (the unit's device judges them);
// any other VLAN, an 802.1ad outer tag, or no tag at all is dropped and
// counted. What a unit sends gets its tag and is redirected to the trunk.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [...TWO_PORTS]);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { readVlanUnits, trunkFlag, writeVlanUnits } = await import('../../lib/dataplane/vlan-units.js');
const { frame } = await import('../helpers/packets.js');
const { XDP_DROP, XDP_REDIRECT } = await import('../../lib/dataplane/xdp-abi.js');

t.ok(insideTestNetns(), 'runs in its own namespace');
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
t.teardown(() => {
  dp.close();
  purgePins(paths);
});

const trunk = native.ifNameToIndex('in0');
const internal = native.ifNameToIndex('out0'); // stands for a unit's internal end: only its ifindex is stored
const TRUNK = trunkFlag(dp.objectPath);
const maps = { units: dp.mapFd('xdpfw_vlan_units'), egress: dp.mapFd('xdpfw_vlan_egress') };
dp.registerPort(trunk, 0, 0, TRUNK);
writeVlanUnits(maps, [{ trunkIfindex: trunk, vlanId: 100, internalIfindex: internal }]);

const udp = { src: '10.100.0.2', dst: '10.200.0.2', protocol: 'udp' as const, sport: 1000, dport: 53 };

function runOn(prog: number, ifindex: number, data: Buffer): { verdict: number; counted: Record<string, number>; out: Buffer | null } {
  const before = dp.readCounters();
  const r = native.progTestRun(prog, { data, ifindex, rxQueue: 0, dataOutSize: data.length + 64 });
  const counted: Record<string, number> = {};
  for (const [name, v] of dp.readCounters()) {
    const d = Number(v.packets - (before.get(name)?.packets ?? 0n));
    if (d !== 0) counted[name] = d;
  }
  return { verdict: r.retval, counted, out: r.dataOut };
}

const run = (data: Buffer): { verdict: number; counted: Record<string, number> } => {
  const { verdict, counted } = runOn(dp.progs.rx, trunk, data);
  return { verdict, counted };
};

t.test("a unit's VLAN: tag off, redirected to the unit, counted", async (t) => {
  const tagged = frame({ ...udp, vlans: [100] });
  const r = runOn(dp.progs.rx, trunk, tagged);
  t.same({ verdict: r.verdict, counted: r.counted }, { verdict: XDP_REDIRECT, counted: { VLAN_TO_UNIT: 1 } });
  t.same(r.out, frame(udp), 'the frame as the unit device gets it: the same, untagged');
  // The priority bits are not the VLAN.
  const pcp = frame({ ...udp, vlans: [100] });
  pcp[14] |= 0xa0;
  t.same(run(pcp), { verdict: XDP_REDIRECT, counted: { VLAN_TO_UNIT: 1 } }, 'with a priority (PCP) set');
});

t.test("what a unit's device sends: its tag on, redirected to the trunk", async (t) => {
  const tx = dp.programFd('xdpfw_vlan_tx');
  const r = runOn(tx, internal, frame(udp));
  t.same({ verdict: r.verdict, counted: r.counted }, { verdict: XDP_REDIRECT, counted: { VLAN_FROM_UNIT: 1 } });
  t.same(r.out, frame({ ...udp, vlans: [100] }), 'tagged with VLAN 100, the rest as sent');
  const other = runOn(tx, trunk, frame(udp));
  t.same({ verdict: other.verdict, counted: other.counted }, { verdict: XDP_DROP, counted: { DROP_VLAN_TAG: 1 } }, 'on an end no unit owns: dropped');
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
  writeVlanUnits(maps, [{ trunkIfindex: trunk, vlanId: 200, internalIfindex: internal }]);
  t.same(readVlanUnits(maps), [{ trunkIfindex: trunk, vlanId: 200, internalIfindex: internal }]);
  t.same(run(frame({ ...udp, vlans: [100] })).counted, { DROP_VLAN_UNKNOWN: 1 });
  t.same(run(frame({ ...udp, vlans: [200] })).counted, { VLAN_TO_UNIT: 1 });
  t.same(runOn(dp.programFd('xdpfw_vlan_tx'), internal, frame(udp)).out, frame({ ...udp, vlans: [200] }), 'the unit now sends tagged 200');
  writeVlanUnits(maps, []);
  t.same(readVlanUnits(maps), []);
  t.same(run(frame({ ...udp, vlans: [200] })).counted, { DROP_VLAN_UNKNOWN: 1 });
});
