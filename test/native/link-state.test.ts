// linkState and the start-up checks on a real veth whose peer lives in
// another network namespace: the peer is found through the namespace id the
// kernel reports, and its XDP, GRO and checksum state read from there.
//
// Run by tap, this file makes the peer's namespace, then re-runs itself in a
// fresh namespace holding the other end (v0), where the tests run.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import t from 'tap';
import { checkLink, queueLimitError } from '../../lib/dataplane/link-checks.js';
import { ifNameToIndex, linkState } from '../../lib/dataplane/native.js';
import { packageRoot } from '../../lib/util/paths.js';
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

const PEER_NS_ENV = 'XDPFW_TEST_PEER_NS';
const PASS_OBJ = resolve(packageRoot, 'dist', 'bpf', 'xdp_pass.bpf.o');

if (!insideTestNetns()) {
  const peerNs = `xfwp${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  execFileSync('ip', ['netns', 'add', peerNs]);
  process.on('exit', () => {
    try { execFileSync('ip', ['netns', 'del', peerNs]); } catch { /* gone */ }
  });
  process.env[PEER_NS_ENV] = peerNs;
  reexecInNetns(import.meta.url, [
    `ip link add v0 numtxqueues 3 numrxqueues 3 type veth peer name v1 numtxqueues 3 numrxqueues 3 netns ${peerNs}`,
    'ip link set v0 up',
    `ip -n ${peerNs} link set v1 up`,
    `ip netns exec ${peerNs} ethtool -K v1 gro off tx on`,
  ]);
}

const peerNs = process.env[PEER_NS_ENV]!;
const inPeer = (cmd: string) => execFileSync('ip', ['netns', 'exec', peerNs, 'sh', '-c', cmd]);

t.test('a veth, and its peer in another namespace', async (t) => {
  const own = linkState(ifNameToIndex('v0'))!;
  t.match(own, { name: 'v0', kind: 'veth', mtu: 1500, up: true, rxQueues: 3, netns: '' });
  t.ok(own.linkNetnsid >= 0, 'the peer is in another namespace, which ours gives an id');
  const peer = linkState(own.linkIfindex, own.linkNetnsid)!;
  t.match(peer, { name: 'v1', kind: 'veth', netns: `/run/netns/${peerNs}`, xdpAttached: false, gro: false, txChecksum: true });

  inPeer('ethtool -K v1 gro on tx off');
  t.match(linkState(own.linkIfindex, own.linkNetnsid), { gro: true, txChecksum: false }, 'read again, not cached');
  inPeer(`ip link set dev v1 xdpdrv obj ${PASS_OBJ} sec xdp.frags`);
  t.match(linkState(own.linkIfindex, own.linkNetnsid), { xdpAttached: true });
  inPeer('ip link set dev v1 xdp off; ethtool -K v1 gro off tx on');

  t.equal(linkState(99999), null, 'no such device');
  t.equal(linkState(own.linkIfindex, 99999), null, 'no such namespace');
  t.equal(ifNameToIndex('v0'), own.ifindex, 'the thread is back in its own namespace');
});

t.test('checkLink names the peer, its namespace and the fix; quiet once fixed', async (t) => {
  const ifindex = ifNameToIndex('v0');
  const found = checkLink(ifindex, 'native', 1792);
  t.same(found.map((w) => w.check).sort(), ['veth-peer-drops-redirects', 'veth-peer-tx-checksum']);
  t.equal(found.find((w) => w.check === 'veth-peer-drops-redirects')?.fix,
    `ip netns exec ${peerNs} ethtool -K v1 gro on (or attach an XDP program to v1)`);
  t.equal(found.find((w) => w.check === 'veth-peer-tx-checksum')?.fix, `ip netns exec ${peerNs} ethtool -K v1 tx off`);
  t.same(checkLink(ifindex, 'generic', 1792).map((w) => w.check), ['veth-peer-tx-checksum'],
    'generic XDP redirects through the ordinary transmit path: the peer needs no NAPI');

  inPeer('ethtool -K v1 gro on tx off');
  t.same(checkLink(ifindex, 'native', 1792), [], 'GRO on and tx checksumming off: nothing to warn about');
  t.same(checkLink(ifindex, 'native', 1500).map((w) => w.check), ['mtu-above-slow-path'], 'MTU 1500 needs 1514-byte frames');
  const [single] = checkLink(ifindex, 'native', 1500, false);
  t.match(single?.message, 'its AF_XDP sockets on v0 are not multi-buffer', 'sockets without multi-buffer: said why');
  t.notMatch(checkLink(ifindex, 'native', 1500, true)[0]?.message, 'multi-buffer', 'multi-buffer sockets: only the limit');
});

t.test('queueLimitError', async (t) => {
  t.equal(queueLimitError('eth0', '', 64, 64), null, '64 queues fit');
  t.match(queueLimitError('eth0', '', 65, 64), 'interface eth0 has 65 receive queues; xdpfw serves at most 64 per interface');
  t.match(queueLimitError('eth0', '', 65, 64), 'ethtool -L eth0 combined 64');
  t.match(queueLimitError('v0', 'veth', 80, 64), 'ethtool -L v0 rx 64 tx 64', 'a veth has no combined channels');
});
