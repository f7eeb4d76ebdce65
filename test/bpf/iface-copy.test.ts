// xdpfw_rx takes the ingress interface's entry from a per-CPU copy
// (bpf/iface_cache.h): every change the daemon makes to an interface's
// entry (its zone, its removal, putting it back) holds from the next packet
// on, on the CPU that copied the old entry. The test's thread is pinned to
// one CPU so that every packet finds the copy the one before it left.
// Runs in its own network namespace (in0: the ingress port).
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, [
  'ip link add name in0 type veth peer name in0p',
  'for d in in0 in0p lo; do ip link set $d up; done',
]);

const { execFileSync } = await import('node:child_process');
const { default: t } = await import('tap');
const { compileText } = await import('../../lib/config/compile.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const native = await import('../../lib/dataplane/native.js');
const { applyScreens } = await import('../../lib/screens/apply.js');
const { frame } = await import('../helpers/packets.js');

t.ok(insideTestNetns(), 'runs in its own namespace');
// BPF_PROG_RUN runs on the calling thread's CPU: the main thread, pinned.
execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const paths = statePaths(`/tmp/${insideTestNetns()}`);
const dp = new Dataplane(paths);
t.teardown(() => {
  dp.close();
  purgePins(paths);
});
const IN = native.ifNameToIndex('in0');
const r = compileText(`security {
  zones { security-zone screened { interfaces { in0; } screen S; } security-zone plain { interfaces { in0p; } } }
  screen { ids-option S { tcp { land; } } }
}`, 'iface-copy.conf');
if (!r.ok) throw new Error(r.errors.join('\n'));
const zone = (name: string) => r.config.zones.find((z) => z.name === name)!.id;
applyScreens(dp, r.config);

const land = frame({ src: '10.9.0.2', dst: '10.9.0.2', protocol: 'tcp', tcpFlags: 0x02 });

/** The counter that took one land packet on in0. */
function verdict(): string {
  const before = dp.readCounters();
  native.progTestRun(dp.progs.rx, { data: land, ifindex: IN, rxQueue: 0 });
  const moved = [...dp.readCounters()].filter(([name, v]) => v.packets !== (before.get(name)?.packets ?? 0n)).map(([name]) => name);
  if (moved.length !== 1) throw new Error(`one packet moved ${moved.length} counters: ${moved.join(', ')}`);
  return moved[0]!;
}

t.test('a change to an interface holds from the next packet on', async (t) => {
  dp.setInterfaceZone(IN, 0, zone('screened'));
  t.equal(verdict(), 'DROP_SCREEN', 'in the screened zone: land dropped');
  t.equal(verdict(), 'DROP_SCREEN', 'again, from the copy');
  dp.setInterfaceZone(IN, 0, zone('plain'));
  t.equal(verdict(), 'DROP_NO_SOCKET', 'moved to a zone without screens: not screened');
  const entry = dp.interfaceEntry(IN);
  dp.setInterfaceZone(IN, 0, zone('screened'));
  t.equal(verdict(), 'DROP_SCREEN', 'moved back: screened again');
  dp.forgetInterface(IN);
  t.not(verdict(), 'DROP_SCREEN', 'forgotten: no zone, no screens');
  dp.restoreInterfaceEntry(IN, entry);
  t.equal(verdict(), 'DROP_NO_SOCKET', 'its earlier entry put back: the plain zone');
});
