// The devices of trunk units, made and removed by lib/interfaces/unit-devices.ts
// in a network namespace of this test's own: a veth pair per unit with the
// trunk's MAC and MTU, the unit's addresses and nothing else, found again by
// the alias naming its state directory; other devices are never touched.
import { execFileSync } from 'node:child_process';
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, ['ip link add tr0 mtu 1400 type veth peer name tr1', 'ip link set tr0 up']);

const { default: t } = await import('tap');
const { ensureUnitDevices, removeUnitDevices, unitDeviceName, unitInternalName } = await import('../../lib/interfaces/unit-devices.js');
const { ifNameToIndex } = await import('../../lib/dataplane/native.js');

interface IpLink { ifname: string; address: string; mtu: number; ifalias?: string; link?: string; operstate: string; linkinfo?: { info_kind?: string } }
const link = (name: string): IpLink | undefined =>
  (JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as IpLink[]).find((l) => l.ifname === name);
const addrs = (name: string): string[] =>
  (JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', name], { encoding: 'utf8' })) as Array<{ addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>)
    .flatMap((a) => a.addr_info).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`).sort();

t.ok(insideTestNetns(), 'runs in its own namespace');
const STATE = '/var/lib/xdpfw-test-a';
const unit = (vlanId: number, addresses: string[]) =>
  ({ trunk: 'tr0', vlanId, device: unitDeviceName('tr0', vlanId), internal: unitInternalName('tr0', vlanId), addresses });

t.test("made with the trunk's MAC and MTU, the unit's addresses, marked as this state directory's", async (t) => {
  ensureUnitDevices([unit(100, ['10.100.0.1/24', 'fd00:100::1/64'])], STATE);
  const dev = link('tr0.100');
  const internal = link(unitInternalName('tr0', 100));
  t.equal(dev?.linkinfo?.info_kind, 'veth');
  t.equal(dev?.link, unitInternalName('tr0', 100), 'its peer is the internal end');
  t.equal(dev?.address, link('tr0')?.address, "the trunk's MAC");
  t.equal(dev?.mtu, 1400, "the trunk's MTU");
  t.equal(internal?.mtu, 1400);
  t.match(dev?.ifalias, /^xdpfw unit tr0 vlan 100 state \/var\/lib\/xdpfw-test-a$/);
  t.same(addrs('tr0.100'), ['10.100.0.1/24', 'fd00:100::1/64']);
  const offloads = execFileSync('ethtool', ['-k', 'tr0.100'], { encoding: 'utf8' });
  t.match(offloads, /tx-checksumming: off/, 'nothing left to checksum offload: frames leave by XDP as they are');
});

t.test('made again: the same devices, addresses follow the config', async (t) => {
  const ifindex = ifNameToIndex('tr0.100');
  execFileSync('ip', ['addr', 'add', '10.9.9.9/24', 'dev', 'tr0.100']);
  ensureUnitDevices([unit(100, ['10.100.0.2/24'])], STATE);
  t.equal(ifNameToIndex('tr0.100'), ifindex, 'kept, not made anew');
  t.same(addrs('tr0.100'), ['10.100.0.2/24'], 'exactly the configured address');
});

t.test("a name another device has is refused, and that device left alone", async (t) => {
  execFileSync('ip', ['link', 'add', 'tr0.200', 'type', 'veth', 'peer', 'name', 'other0']);
  t.throws(() => ensureUnitDevices([unit(200, [])], STATE), /interface tr0\.200 exists and is not a unit device of this xdpfw/);
  t.equal(link('tr0.200')?.link, 'other0', 'still the same veth');
  t.notOk(link(unitInternalName('tr0', 200)), 'no internal end made');
  execFileSync('ip', ['link', 'del', 'tr0.200']);
});

t.test("removal takes this state directory's devices only, except those kept", async (t) => {
  ensureUnitDevices([unit(300, [])], '/var/lib/xdpfw-test-b');
  ensureUnitDevices([unit(200, [])], STATE);
  t.same(removeUnitDevices(STATE, new Set(['tr0.100'])), ['tr0.200'], 'unit 200 removed, 100 kept');
  t.notOk(link(unitInternalName('tr0', 200)), 'its internal end went with it');
  t.same(removeUnitDevices(STATE), ['tr0.100']);
  t.ok(link('tr0.300'), "another state directory's unit stays");
  t.same(removeUnitDevices('/var/lib/xdpfw-test-b'), ['tr0.300']);
  t.ok(link('tr0'), 'the trunk stays');
});
