// Where one daemon instance keeps its state. Pins must live on the host's
// bpffs (see dataplane/bpffs.ts), under xdpfw/<state dir spelled as one
// name>: the same place for every process given the same state directory,
// however it was started, so a restarted daemon adopts them and unload finds
// them. The state directory itself holds the control socket, pid file and log.
import { join, resolve } from 'node:path';
import { persistentBpffs } from '../dataplane/bpffs.js';

export const DEFAULT_STATE_DIR = '/run/xdpfw';

export interface StatePaths {
  stateDir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  runtimeFile: string;
  /** Ids of zones, policies, filters and terms (lib/identity/registry.ts): what sessions and events carry. */
  identitiesFile: string;
  /** Every applied configuration and the pending confirm (lib/commit/). */
  commitDir: string;
  /** Pins of this instance, relative to the bpffs root: xdpfw/NAME. */
  pinName: string;
  /** The pin paths are found on first use: finding the host's bpffs may fail (NoPersistentBpffs). */
  readonly pinDir: string;
  readonly mapPinDir: string;
  readonly linkPinDir: string;
}

export function statePaths(stateDir: string = DEFAULT_STATE_DIR): StatePaths {
  const dir = resolve(stateDir);
  const pinName = join('xdpfw', dir.replace(/^\//, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'root');
  return {
    stateDir: dir,
    socket: join(dir, 'control.sock'),
    pidFile: join(dir, 'daemon.pid'),
    logFile: join(dir, 'daemon.log'),
    runtimeFile: join(dir, 'runtime.json'),
    identitiesFile: join(dir, 'identities.json'),
    commitDir: join(dir, 'commits'),
    pinName,
    get pinDir() {
      return join(persistentBpffs().root, pinName);
    },
    get mapPinDir() {
      return join(this.pinDir, 'maps');
    },
    get linkPinDir() {
      return join(this.pinDir, 'links');
    },
  };
}

/**
 * The name of an interface's pinned link in linkPinDir: bpffs refuses names
 * with a '.', which interface names (trunk0.100) may have; ':' never is in
 * an interface name, so it stands for the '.'.
 */
export function linkPinName(ifname: string): string {
  return ifname.replace(/\./g, ':');
}

/** The interface a pinned link's name (linkPinName) stands for. */
export function linkPinIfname(pin: string): string {
  return pin.replace(/:/g, '.');
}
