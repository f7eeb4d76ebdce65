// Builds the daemon's packet-drop monitor from the loaded object.
import type { Dataplane } from '../dataplane/dataplane.js';
import { SCREENS } from '../events/screens.js';
import { screenConstants } from '../screens/screen-ids.js';
import { DropMonitor } from './drop-monitor.js';
import { type IngressNames, verifyDropLayouts } from './drop-entry.js';

export function createDropMonitor(dataplane: Dataplane, names: IngressNames): DropMonitor {
  verifyDropLayouts(dataplane.objectPath);
  const counters = new Map([...dataplane.constants.counters].map(([name, id]) => [id, name]));
  const screens = new Map([...screenConstants(dataplane.objectPath).ids].map(([key, id]) => [id, SCREENS[key].attackName as string]));
  return new DropMonitor(
    { watch: dataplane.mapFd('xdpfw_drop_watch'), budget: dataplane.mapFd('xdpfw_drop_budget'), ring: dataplane.mapFd('xdpfw_drops') },
    dataplane.cpus, counters, screens, names,
  );
}
