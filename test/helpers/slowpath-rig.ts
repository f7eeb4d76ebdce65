// The slow path on the real parts, for bpf tests run in their own namespace with TWO_PORTS
// (in0 in zone trust, out0 in zone untrust): the compiled dataplane with both ports
// registered, xdpfw_rx attached to in0, a QueueSocket on in0's queue 0 (frames XDP redirects
// arrive there), a wire to send frames into in0 from its far end, and the session table on the
// real map. Import it after reexecInNetns; it registers its teardown.
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig, Zone } from '../../lib/config/types.js';
import { statePaths } from '../../lib/daemon/state-paths.js';
import { Dataplane, purgePins } from '../../lib/dataplane/dataplane.js';
import { ifNameToIndex } from '../../lib/dataplane/native.js';
import { VerdictRows } from '../../lib/session/verdict-rows.js';
import { SessionTable } from '../../lib/session/table.js';
import { QueueSocket } from '../../lib/slowpath/receiver.js';
import { insideTestNetns } from './netns-reexec.js';
import { Wire } from './wire.js';

export interface SlowPathRig {
  config: CompiledConfig;
  dp: Dataplane;
  inIndex: number;
  outIndex: number;
  trust: Zone;
  untrust: Zone;
  /** in0's queue 0. */
  socket: QueueSocket;
  /** in0's far end: frames sent there arrive on in0, through xdpfw_rx (attached). */
  wire: Wire;
  sessions: SessionTable;
  /** Zone by ifindex, as SlowPath takes it. */
  zones: Map<number, Zone>;
}

export function slowPathRig(configText: string, file: string, test: { teardown(fn: () => void): void }): SlowPathRig {
  const compiled = compileText(configText, file);
  if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
  const config = compiled.config;
  const paths = statePaths(`/tmp/${insideTestNetns()}`);
  const dp = new Dataplane(paths);
  const inIndex = ifNameToIndex('in0');
  const outIndex = ifNameToIndex('out0');
  const trust = config.zones.find((z) => z.name === 'trust')!;
  const untrust = config.zones.find((z) => z.name === 'untrust')!;
  dp.registerPort(inIndex, 0, trust.id);
  dp.registerPort(outIndex, 1, untrust.id);
  const socket = new QueueSocket('in0', inIndex, 0, trust);
  dp.registerSocket(0, 0, socket.fd);
  dp.attach('in0', 0, trust.id, 'native');
  const wire = new Wire('in0p');
  const sessions = new SessionTable(dp.mapFd('xdpfw_sessions'), dp.constants.sessionFlags, config.flow.timeouts, config.flow.maxSessions, dp.constants.tcp, new VerdictRows(dp.mapFd('xdpfw_verdict_rows'), dp.constants.maxVerdictRows));
  test.teardown(() => {
    sessions.clear();
    wire.close();
    dp.detach('in0');
    socket.close();
    dp.close();
    purgePins(paths);
  });
  const zones = new Map<number, Zone>([[inIndex, trust], [outIndex, untrust]]);
  return { config, dp, inIndex, outIndex, trust, untrust, socket, wire, sessions, zones };
}
