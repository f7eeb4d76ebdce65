// The rest of fail-closed.test.ts, in a file of its own so that the two run
// side by side: SIGABRT and SIGTERM of a daemon started with `ip netns exec`
// leave the firewall closed and the next daemon adopts everything
// (test/helpers/fail-closed.ts).
import t from 'tap';
import { killDaemonAndCheck, startEndpoints } from '../helpers/fail-closed.js';
import { Topology, basicConfig } from '../helpers/topology.js';

let topo: Topology;
let conf: string;
t.before(async () => {
  topo = await Topology.create();
  conf = topo.writeConfig(basicConfig());
  await startEndpoints(topo);
});
t.teardown(() => topo?.destroy());

const signals: NodeJS.Signals[] = ['SIGABRT', 'SIGTERM'];
signals.forEach((signal, i) => {
  t.test(`${signal} of a daemon started with ip netns exec: nothing unfiltered passes, the next one adopts`, (t) =>
    killDaemonAndCheck(t, topo, conf, { start: 'ip-netns-exec', restart: 'ip-netns-exec', signal, portBase: 42020 + i * 10 }));
});
