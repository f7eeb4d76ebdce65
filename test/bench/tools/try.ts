import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BenchNet } from '../lib/net.js';
import { basicConfig } from '../../helpers/topology.js';
const net = await BenchNet.create();
try {
  const conf = net.topo.writeConfig(basicConfig());
  const d = spawn('nsenter', [`--net=/run/netns/${net.topo.ns.fw}`, process.execPath, '--cpu-prof', '--cpu-prof-dir=/tmp/xdpfw-prof', 'bin/xdpfw', 'run', '-c', conf, '--state-dir', net.topo.stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(d.stdout!, 'data');
  console.log('new', await net.delivered({ frames: 150_000, rate: 30_000, flows: 10_000_000, firstFlow: 100 }));
  const u = await net.topo.xdpfw(['unload']);
  console.log(u.stdout, u.stderr);
  await once(d, 'exit');
} finally { await net.destroy(); }
