// End to end: whatever kills a daemon started as users start it in a
// namespace, with `ip netns exec` (a mount namespace of its own, with a
// fresh /sys where /sys/fs/bpf is not the host's bpffs), the firewall stays
// closed and the next daemon adopts everything (test/helpers/fail-closed.ts).
import t from 'tap';
import { existsSync } from 'node:fs';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { killDaemonAndCheck, startEndpoints, xdpAttached } from '../helpers/fail-closed.js';
import { Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
let conf: string;
t.before(async () => {
  topo = await Topology.create();
  conf = topo.writeConfig(basicConfig());
  await startEndpoints(topo);
});
t.teardown(() => topo?.destroy());

// SIGABRT and SIGTERM: fail-closed-signals.test.ts (the two files run side by side).
const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGSEGV'];
signals.forEach((signal, i) => {
  t.test(`${signal} of a daemon started with ip netns exec: nothing unfiltered passes, the next one adopts`, (t) =>
    killDaemonAndCheck(t, topo, conf, { start: 'ip-netns-exec', restart: 'ip-netns-exec', signal, portBase: 42000 + i * 10 }));
});

t.test('unload from the host finds the pins of a daemon started with ip netns exec', async (t) => {
  const r = await topo.xdpfw(['unload']);
  t.equal(r.code, 0, r.stderr);
  for (const dev of ['trust0', 'untrust0']) t.notOk(await xdpAttached(topo, dev), `no XDP on ${dev}`);
  t.notOk(existsSync(statePaths(topo.stateDir).pinDir), 'no pins left');
});
