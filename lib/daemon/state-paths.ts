// Where one daemon instance keeps its state. Pins must live on the bpffs, so
// they go under /sys/fs/bpf/xdpfw/<state dir spelled as one name>; the state
// directory itself holds the control socket, pid file and log.
import { join, resolve } from 'node:path';

export const DEFAULT_STATE_DIR = '/run/xdpfw';
export const BPFFS_ROOT = '/sys/fs/bpf';

export interface StatePaths {
  stateDir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  runtimeFile: string;
  pinDir: string;
  mapPinDir: string;
  linkPinDir: string;
}

export function statePaths(stateDir: string = DEFAULT_STATE_DIR): StatePaths {
  const dir = resolve(stateDir);
  const pinDir = join(BPFFS_ROOT, 'xdpfw', dir.replace(/^\//, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'root');
  return {
    stateDir: dir,
    socket: join(dir, 'control.sock'),
    pidFile: join(dir, 'daemon.pid'),
    logFile: join(dir, 'daemon.log'),
    runtimeFile: join(dir, 'runtime.json'),
    pinDir,
    mapPinDir: join(pinDir, 'maps'),
    linkPinDir: join(pinDir, 'links'),
  };
}
