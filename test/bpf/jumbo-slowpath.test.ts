// Jumbo frames through the slow path with the real parts: frames sent by an
// AF_XDP socket on the far end of in0 (MTU 9000), taken by the compiled XDP
// program attached to in0, drained by the daemon's QueueSocket into a
// SlowPath on the real session map, and sent on from a QueueSocket on out0.
// A 9014-byte datagram of an established session whose input filter has a
// per-packet term (with no program store, such a flow is judged here packet
// by packet) goes on whole (a live BPF_PROG_RUN would refuse it); a jumbo
// first packet only the kernel could send on (next hop not resolved) is
// dropped and counted.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';
import { TWO_PORTS } from '../helpers/two-ports.js';

reexecInNetns(import.meta.url, [
  ...TWO_PORTS,
  'for d in in0 in0p out0 out0p; do ip link set $d mtu 9000; done',
  'ip route add 10.10.0.0/24 via 10.9.0.3',
]);

const { default: t } = await import('tap');
const { execFileSync } = await import('node:child_process');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { compileText } = await import('../../lib/config/compile.js');
const { VerdictRows } = await import('../../lib/session/verdict-rows.js');
const { SessionTable } = await import('../../lib/session/table.js');
const { SlowPath } = await import('../../lib/slowpath/slowpath.js');
const { QueueSocket } = await import('../../lib/slowpath/receiver.js');
const { frame } = await import('../helpers/packets.js');
type FrameSpec = import('../helpers/packets.js').FrameSpec;
type Zone = import('../../lib/config/types.js').Zone;

const CONFIG = `
security {
    zones {
        security-zone trust { interfaces { in0; } }
        security-zone untrust { interfaces { out0; } }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow-out {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
        default-policy { deny-all; }
    }
}
firewall {
    family inet {
        filter in-inet {
            term ef { from { dscp ef; } then { discard; } }
            term rest { then { accept; } }
        }
    }
}
interfaces {
    in0 { unit 0 { family inet { filter { input in-inet; } } } }
}
`;

t.ok(insideTestNetns(), 'runs in its own namespace');
const compiled = compileText(CONFIG, 'jumbo.conf');
if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
const config = compiled.config;
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
const inIndex = native.ifNameToIndex('in0');
const outIndex = native.ifNameToIndex('out0');
const trust = config.zones.find((z) => z.name === 'trust')!;
const untrust = config.zones.find((z) => z.name === 'untrust')!;
dp.registerPort(inIndex, 0, trust.id);
dp.registerPort(outIndex, 1, untrust.id);
const ingress = new QueueSocket('in0', inIndex, 0, trust);
const egress = new QueueSocket('out0', outIndex, 0, untrust);
dp.registerSocket(0, 0, ingress.fd);
dp.registerSocket(1, 0, egress.fd);
dp.attach('in0', 0, trust.id, 'native');
// The far end of in0 sends from a socket of its own: frames of any size arrive as on a wire.
const sender = new native.Xsk({ ifindex: native.ifNameToIndex('in0p'), ifname: 'in0p', queue: 0 });
const sessions = new SessionTable(dp.mapFd('xdpfw_sessions'), dp.constants.sessionFlags, config.flow.timeouts, config.flow.maxSessions, dp.constants.tcp, new VerdictRows(dp.mapFd('xdpfw_verdict_rows'), dp.constants.maxVerdictRows));
t.teardown(() => {
  sessions.clear();
  sender.close();
  dp.detach('in0');
  ingress.close();
  egress.close();
  dp.close();
  purgePins(paths);
});

const zones = new Map<number, Zone>([[inIndex, trust], [outIndex, untrust]]);
const slowPath = new SlowPath(dp.progs, sessions, config, zones, () => undefined);
slowPath.egressPort = (ifindex) => (ifindex === outIndex ? egress : undefined);
slowPath.kernel = dp.kernelPath;

function received(dev: string): { packets: number; bytes: number } {
  const [link] = JSON.parse(execFileSync('ip', ['-j', '-s', 'link', 'show', dev], { encoding: 'utf8' })) as Array<{ stats64: { rx: { packets: number; bytes: number } } }>;
  return link!.stats64.rx;
}

function sized(spec: FrameSpec, length: number): Buffer {
  const payload = Buffer.alloc(Math.max(0, length - frame(spec).length), 0x6a);
  return frame({ ...spec, payload, dstMac: '02:00:00:00:00:01' });
}

/** Sends a frame from in0p and lets the slow path handle what XDP hands it. */
async function throughSlowPath(data: Buffer): Promise<void> {
  const before = slowPath.stats.received;
  if (sender.tx(data, new Uint32Array([data.length]), 1) !== 1) throw new Error('tx ring full');
  for (let i = 0; i < 500 && slowPath.stats.received === before; i++) {
    ingress.drain(slowPath);
    if (slowPath.stats.received === before) await new Promise((r) => setTimeout(r, 10));
  }
}

async function arrived(dev: string, before: { packets: number }): Promise<{ packets: number; bytes: number }> {
  let now = received(dev);
  for (let i = 0; i < 300 && now.packets === before.packets; i++) {
    await new Promise((r) => setTimeout(r, 10));
    now = received(dev);
  }
  return now;
}

const udp: FrameSpec = { src: '10.8.0.2', dst: '10.9.0.2', protocol: 'udp', sport: 40000, dport: 443 };

t.test('a 9014-byte datagram of an established session judged here packet by packet goes on whole from the egress socket', async (t) => {
  let before = received('out0p');
  await throughSlowPath(sized(udp, 60));
  t.equal(slowPath.stats.injected, 1, 'the first datagram was judged and sent on');
  t.equal((await arrived('out0p', before)).packets - before.packets, 1, 'and arrived behind out0');

  before = received('out0p');
  const handedUp = dp.readCounters().get('FILTER_PROGRAM_SLOW_PATH')?.packets ?? 0n;
  await throughSlowPath(sized(udp, 9014));
  t.equal(slowPath.stats.received, 2, 'XDP handed the jumbo datagram of the session to the slow path');
  t.equal(Number((dp.readCounters().get('FILTER_PROGRAM_SLOW_PATH')?.packets ?? 0n) - handedUp), 1, 'as a session packet its filter judges here');
  t.equal(slowPath.stats.injected, 2, 'which sent it on');
  t.same([...slowPath.stats.drops], [], 'nothing dropped');
  const after = await arrived('out0p', before);
  t.equal(after.packets - before.packets, 1, 'one frame arrived behind out0');
  t.equal(after.bytes - before.bytes, 9014, 'the whole of it');
});

t.test('a jumbo first packet only the kernel could send on is dropped and counted', async (t) => {
  const drops = () => slowPath.stats.drops.get('too_big_for_kernel') ?? 0;
  await throughSlowPath(sized({ src: '10.8.0.2', dst: '10.10.0.7', protocol: 'udp', sport: 4000, dport: 53 }, 9014));
  t.equal(drops(), 1, 'next hop not resolved: too_big_for_kernel');
  await throughSlowPath(sized({ src: '10.8.0.2', dst: '10.10.0.7', protocol: 'udp', sport: 4001, dport: 53 }, 1000));
  t.equal(drops(), 1, 'a small one goes to the kernel as ever');
  t.equal(slowPath.stats.injected, 3, 'handed to the kernel');
});
