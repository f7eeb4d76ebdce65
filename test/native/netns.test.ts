// XDP links, live-frame BPF_PROG_RUN and AF_XDP on real veth devices.
//
// This file has two roles. Run by tap, it builds a private network
// namespace (veth pairs, addresses), compiles the test object, and re-runs
// itself inside the namespace with `nsenter --net` (not `ip netns exec`,
// whose private mount namespace would hide /sys/fs/bpf pins); tap parses the
// child's output as a subtest. The child role (XDPFW_TEST_NETNS set) holds
// the actual tests: ifindex lookups, BPF_PROG_RUN live frames and AF_XDP
// binds all need to happen in the namespace of the devices.
//
// Topology inside the namespace:
//   xa (no address; XDP + AF_XDP)  <-veth->  xb 192.0.2.2/24, 192.0.2.1 -> xa's MAC
//   mq0 <-veth-> mq1 with 4 queues each (queue-count check only)
// xa has no address, so traffic from xb to 192.0.2.1 really crosses the veth.

import dgram from 'node:dgram';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  BPF_ANY,
  Xsk,
  attachXdp,
  closeFd,
  getPinned,
  ifNameToIndex,
  ifQueueCount,
  linkDetach,
  linkInfo,
  linkUpdate,
  mapUpdate,
  openObject,
  pinObject,
  progInfo,
  progTestRun,
} from '../../lib/dataplane/native.js';
import {
  CNT_PEER_MARKED,
  MARK_ETHERTYPE,
  MODE_REDIRECT_XSK,
  UDP_PAYLOAD_OFFSET,
  type Teardown,
  addVethPair,
  compileTestObject,
  createNetns,
  ensureBpffs,
  ethFrame,
  ipIn,
  macOf,
  perCpuSum,
  pinDir,
  u32,
  udpFrame,
  waitFor, thrown } from './fixture.js';

const BPF_LINK_TYPE_XDP = 6;
const UDP_PORT = 9999;
const XA_IP = '192.0.2.1';
const XB_IP = '192.0.2.2';

const childNetns = process.env['XDPFW_TEST_NETNS'];

if (childNetns === undefined) {
  // ------------------------------------------------------------ parent role
  ensureBpffs();
  const ns = createNetns(t);
  addVethPair(ns, 'xa', 'xb');
  addVethPair(ns, 'mq0', 'mq1', 4);
  ipIn(ns, 'addr', 'add', `${XB_IP}/24`, 'dev', 'xb');
  const xaMac = macOf(ns, 'xa');
  const macText = [...xaMac].map((b) => b.toString(16).padStart(2, '0')).join(':');
  ipIn(ns, 'neigh', 'add', XA_IP, 'lladdr', macText, 'dev', 'xb', 'nud', 'permanent');

  await t.spawn(
    'nsenter',
    [`--net=${ns.path}`, process.execPath, fileURLToPath(import.meta.url)],
    {
      env: {
        ...process.env,
        XDPFW_TEST_NETNS: ns.name,
        XDPFW_TEST_OBJ: compileTestObject(t),
        XDPFW_TEST_PINS: pinDir(t),
        XDPFW_TEST_XA_MAC: macText,
      },
    },
    `tests inside network namespace ${ns.name}`,
  );
} else {
  // ------------------------------------------------------------- child role
  const objPath = required('XDPFW_TEST_OBJ');
  const pins = required('XDPFW_TEST_PINS');
  const xaMac = Buffer.from(required('XDPFW_TEST_XA_MAC').split(':').map((h) => parseInt(h, 16)));
  childTests(objPath, pins, xaMac);
}

function required(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} not set`);
  return v;
}

/** Attach with cleanup: the link fd is closed at teardown (detaching it). */
function attach(tt: Teardown, progFd: number, ifindex: number, mode: 'native' | 'generic' | 'auto') {
  const link = attachXdp(progFd, ifindex, mode);
  tt.teardown(() => closeFd(link.linkFd));
  return link;
}

function newXsk(tt: Teardown, ifname: string, frameCount: number): Xsk {
  const xsk = new Xsk({ ifindex: ifNameToIndex(ifname), ifname, queue: 0, frameCount });
  tt.teardown(() => xsk.close());
  return xsk;
}

function childTests(objPath: string, pins: string, xaMac: Buffer): void {
  const xa = ifNameToIndex('xa');
  const xb = ifNameToIndex('xb');

  t.test('queue counts come from ethtool channels', (t) => {
    t.equal(ifQueueCount('mq0'), 4, 'multi-queue veth');
    t.equal(ifQueueCount('xa'), 1);
    t.end();
  });

  t.test('XDP links: attach, inspect, update, pin, detach', (t) => {
    const obj = openObject(objPath);
    t.teardown(() => obj.close());
    const main = obj.progFd('xdp_main');
    const count = obj.progFd('xdp_count');
    // Close whatever is still open if an assertion throws half way, so the
    // following tests find xa free.
    const open = new Set<number>();
    const track = (fd: number): number => (open.add(fd), fd);
    const release = (fd: number): void => {
      open.delete(fd);
      closeFd(fd);
    };
    t.teardown(() => open.forEach((fd) => closeFd(fd)));

    const link = attachXdp(main, xa, 'native');
    track(link.linkFd);
    t.equal(link.mode, 'native', 'veth has a native XDP hook');
    t.same(linkInfo(link.linkFd), {
      id: linkInfo(link.linkFd).id,
      progId: progInfo(main).id,
      ifindex: xa,
      type: BPF_LINK_TYPE_XDP,
    });
    t.equal(thrown(() => attachXdp(count, xa, 'native')).code, 'EBUSY', 'one native link per device');

    linkUpdate(link.linkFd, count);
    t.equal(linkInfo(link.linkFd).progId, progInfo(count).id, 'program swapped in place');

    // A pinned link outlives its fd.
    const pin = join(pins, 'xa_link');
    t.teardown(() => rmSync(pin, { force: true }));
    pinObject(link.linkFd, pin);
    const id = linkInfo(link.linkFd).id;
    release(link.linkFd);
    const pinned = track(getPinned(pin));
    t.match(linkInfo(pinned), { id, ifindex: xa }, 'still attached through the pin');

    linkDetach(pinned);
    t.equal(linkInfo(pinned).ifindex, 0, 'detached link has no device');
    release(pinned);
    rmSync(pin);

    const generic = attachXdp(main, xa, 'generic');
    track(generic.linkFd);
    t.equal(generic.mode, 'generic');
    release(generic.linkFd);

    const auto = attachXdp(main, xa, 'auto');
    track(auto.linkFd);
    t.equal(auto.mode, 'native', "'auto' prefers native");
    release(auto.linkFd);

    t.match(thrown(() => linkInfo(main)).message, /is not a BPF link/);
    t.equal(thrown(() => attachXdp(main, 0x7ffffff0, 'auto')).code, 'ENODEV');
    t.equal(thrown(() => attachXdp(main, xa, 'bogus' as 'auto')).code, 'EINVAL');
    t.end();
  });

  t.test('Xsk options are validated', (t) => {
    const bad = (opts: ConstructorParameters<typeof Xsk>[0]): string => thrown(() => new Xsk(opts)).message;
    t.match(bad({ ifindex: xb, ifname: 'xa', queue: 0 }), /interface xa has ifindex/);
    t.match(bad({ ifindex: xa, ifname: 'xa', queue: 0, frameSize: 1000 }), /frameSize/);
    t.match(bad({ ifindex: xa, ifname: 'xa', queue: 0, frameCount: 7 }), /frameCount/);
    t.match(bad({ ifindex: xa, ifname: 'xa', queue: 0, mode: 'zerocopy' }), /zerocopy: E/, 'veth: no zero-copy');
    t.match(bad({ ifindex: xa, ifname: 'xa', queue: 5 }), /xsk_socket__create/, 'queue beyond the device');
    t.end();
  });

  // Live frames are an option of the binding the product no longer needs; some kernel builds
  // refuse them (EPERM) for every program, and there is nothing of ours to test then.
  const liveRefused = ((): string | false => {
    const obj = openObject(objPath);
    try {
      progTestRun(obj.progFd('xdp_main'), { data: Buffer.alloc(64), ifindex: xa, live: true });
      return false;
    } catch (err) {
      return (err as { code?: string }).code === 'EPERM' ? 'this kernel refuses BPF_PROG_RUN live frames (EPERM)' : false;
    } finally {
      obj.close();
    }
  })();

  t.test('live-frame BPF_PROG_RUN redirects into an AF_XDP socket', { skip: liveRefused }, (t) => {
    const obj = openObject(objPath);
    t.teardown(() => obj.close());
    const xsk = newXsk(t, 'xa', 64);
    t.equal(xsk.mode, 'copy', 'veth falls back to copy mode');
    t.ok(xsk.umem.byteLength >= 64 * 2048, 'the UMEM, and past it the multi-buffer assembly slots');
    mapUpdate(obj.mapFd('xsks'), u32(0), u32(xsk.fd), BPF_ANY);
    mapUpdate(obj.mapFd('config'), u32(0), u32(MODE_REDIRECT_XSK), BPF_ANY);

    const frame = udpFrame({
      dstMac: xaMac,
      srcMac: Buffer.from([2, 0, 0, 0, 0, 9]),
      src: XB_IP,
      dst: XA_IP,
      sport: 4000,
      dport: UDP_PORT,
      payload: Buffer.from('live frame payload'),
    });
    const res = progTestRun(obj.progFd('xdp_main'), { data: frame, ifindex: xa, rxQueue: 0, live: true, repeat: 5 });
    t.equal(res.dataOut, null);

    const descs = new Uint32Array(64);
    const n = xsk.rx(descs);
    t.equal(n, 5, 'one frame per repetition');
    for (let i = 0; i < n; i++) {
      t.same(Buffer.from(xsk.umem, descs[2 * i], descs[2 * i + 1]), frame, `frame ${i} intact`);
    }
    t.equal(xsk.rx(descs), 0);
    t.equal(xsk.stats().rxDropped, 0);

    // The injected frame may itself live in the UMEM (no copy on the JS side).
    const view = new Uint8Array(xsk.umem, descs[0], descs[1]);
    progTestRun(obj.progFd('xdp_main'), { data: view, ifindex: xa, live: true });
    t.equal(xsk.rx(descs), 1);
    t.end();
  });

  t.test('rx frames stay valid until the next rx()', { skip: liveRefused }, (t) => {
    const obj = openObject(objPath);
    t.teardown(() => obj.close());
    const xsk = newXsk(t, 'xa', 4); // 2 RX frames
    mapUpdate(obj.mapFd('xsks'), u32(0), u32(xsk.fd), BPF_ANY);
    mapUpdate(obj.mapFd('config'), u32(0), u32(MODE_REDIRECT_XSK), BPF_ANY);
    const inject = (text: string): void => {
      const f = ethFrame(xaMac, xaMac, MARK_ETHERTYPE, Buffer.from(text.padEnd(46, '.')));
      progTestRun(obj.progFd('xdp_main'), { data: f, ifindex: xa, live: true });
    };
    const payload = (descs: Uint32Array, i: number): string =>
      Buffer.from(xsk.umem, descs[2 * i] + 14, 5).toString();

    inject('one..');
    inject('two..');
    const descs = new Uint32Array(8);
    t.equal(xsk.rx(descs), 2);
    inject('three');
    t.equal(payload(descs, 0), 'one..', 'held frames untouched while JS owns them');
    t.equal(payload(descs, 1), 'two..');
    t.ok(xsk.stats().fillRingEmptyDescs + xsk.stats().rxDropped >= 1, 'no buffer for the third frame');

    t.equal(xsk.rx(descs), 0, 'returns the held frames to the kernel');
    inject('four.');
    t.equal(xsk.rx(descs), 1);
    t.equal(payload(descs, 0), 'four.');
    t.end();
  });

  t.test('AF_XDP receives UDP sent through the veth (native XDP, poll)', async (t) => {
    const obj = openObject(objPath);
    t.teardown(() => obj.close());
    const xsk = newXsk(t, 'xa', 256);
    mapUpdate(obj.mapFd('xsks'), u32(0), u32(xsk.fd), BPF_ANY);
    mapUpdate(obj.mapFd('config'), u32(0), u32(MODE_REDIRECT_XSK), BPF_ANY);
    const link = attach(t, obj.progFd('xdp_main'), xa, 'native');
    t.equal(link.mode, 'native');

    const received: string[] = [];
    const descs = new Uint32Array(64);
    xsk.poll((err) => {
      if (err !== undefined) throw err;
      let n: number;
      while ((n = xsk.rx(descs)) > 0) {
        for (let i = 0; i < n; i++) {
          const f = Buffer.from(xsk.umem, descs[2 * i], descs[2 * i + 1]);
          if (f.readUInt16BE(12) !== 0x0800 || f[23] !== 17) continue;
          if (f.subarray(30, 34).join('.') !== XA_IP) continue;
          received.push(f.subarray(UDP_PAYLOAD_OFFSET).toString());
        }
      }
    });

    const sock = dgram.createSocket('udp4');
    t.teardown(() => sock.close());
    await new Promise<void>((resolve) => sock.bind(0, XB_IP, resolve));
    const sent = Array.from({ length: 20 }, (_, i) => `datagram-${i}`);
    for (const msg of sent) {
      await new Promise<void>((resolve, reject) =>
        sock.send(msg, UDP_PORT, XA_IP, (err) => (err ? reject(err) : resolve())),
      );
    }
    t.ok(await waitFor(() => received.length >= sent.length), 'all datagrams arrived');
    xsk.stopPoll();
    t.same(received, sent, 'payloads intact and in order');
    t.equal(xsk.stats().rxDropped, 0);
  });

  t.test('AF_XDP transmits frames that arrive at the peer', async (t) => {
    const obj = openObject(objPath);
    t.teardown(() => obj.close());
    attach(t, obj.progFd('xdp_count'), xb, 'native');
    const counters = obj.mapFd('counters');
    const xsk = newXsk(t, 'xa', 16); // 8 TX frames
    const base = perCpuSum(counters, CNT_PEER_MARKED);

    const total = 20;
    const frames = Array.from({ length: total }, (_, i) =>
      ethFrame(Buffer.from([2, 0, 0, 0, 0, 0xb]), xaMac, MARK_ETHERTYPE, Buffer.alloc(46 + i, i)),
    );
    const lengths = new Uint32Array(frames.map((f) => f.length));
    const all = Buffer.concat(frames);

    const first = xsk.tx(all, lengths, total);
    t.equal(first, 8, 'limited by the TX frame pool');
    let queued = first;
    let completed = 0;
    const deadline = Date.now() + 5000;
    while (queued < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      const offset = frames.slice(0, queued).reduce((s, f) => s + f.length, 0);
      queued += xsk.tx(all.subarray(offset), lengths.subarray(queued), total - queued);
    }
    t.equal(queued, total, 'everything queued once completions freed frames');
    t.ok(
      await waitFor(() => {
        completed += xsk.completeTx();
        return perCpuSum(counters, CNT_PEER_MARKED) - base >= BigInt(total);
      }),
    );
    t.equal(perCpuSum(counters, CNT_PEER_MARKED) - base, BigInt(total), 'the peer saw every frame once');
    t.equal(xsk.stats().txInvalidDescs, 0);

    t.match(thrown(() => xsk.tx(all, lengths, total + 1)).message, /count exceeds/);
    t.match(thrown(() => xsk.tx(all.subarray(0, 10), lengths, 1)).message, /lengths add up/);
    const tooLong = xsk.maxPacket + 1;
    t.match(thrown(() => xsk.tx(Buffer.alloc(tooLong), new Uint32Array([tooLong]), 1)).message, new RegExp(`length ${tooLong} not in`));
  });

  t.test('close detaches the UMEM and is idempotent', (t) => {
    const xsk = new Xsk({ ifindex: xa, ifname: 'xa', queue: 0, frameCount: 8, multiBuffer: false });
    t.same([xsk.multiBuffer, xsk.maxPacket], [false, 2048], 'without multi-buffer: one frame per packet');
    t.match(thrown(() => xsk.tx(Buffer.alloc(4096), new Uint32Array([4096]), 1)).message, /length 4096 not in \[1, 2048\]/);
    const umem = xsk.umem;
    const view = new Uint8Array(umem);
    t.equal(view.length, 8 * 2048, 'the UMEM alone');
    xsk.poll(() => undefined);
    xsk.close();
    xsk.close();
    t.equal(umem.byteLength, 0, 'ArrayBuffer detached');
    t.equal(view.length, 0, 'views are empty, not dangling');
    t.equal(thrown(() => xsk.rx(new Uint32Array(2))).code, 'EBADF');
    t.end();
  });
}
