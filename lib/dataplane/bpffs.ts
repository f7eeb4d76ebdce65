// Where the pins live. They must outlive the daemon: a pinned bpf_link is
// what keeps XDP attached while no daemon runs, so the pins go on the host's
// bpffs, the one mounted at /sys/fs/bpf in PID 1's mount namespace.
//
// `ip netns exec` runs its command in a mount namespace of its own with a
// fresh sysfs on /sys: /sys/fs/bpf there is empty, or a bpffs mounted in that
// namespace, which dies with it and takes every pin (and so every XDP
// attachment) along. So the host's bpffs is recognised by its device, not by
// its path, and reached through /proc when it is not visible here. A private
// bpffs is never mounted: without the host's, the daemon refuses to start.
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { readProcStat } from '../util/proc-stat.js';

export const BPFFS_MOUNT_POINT = '/sys/fs/bpf';

export interface MountEntry {
  mountId: number;
  /** major:minor of the file system, one per bpffs instance. */
  device: string;
  mountPoint: string;
  fsType: string;
}

/** Parses /proc/PID/mountinfo (proc(5)); mount points keep their octal escapes undone. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0 || dash + 1 >= fields.length) continue;
    entries.push({
      mountId: Number(fields[0]),
      device: fields[2]!,
      mountPoint: fields[4]!.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))),
      fsType: fields[dash + 1]!,
    });
  }
  return entries;
}

/** The bpffs visible at a mount point: the topmost mount there, when it is a bpffs. */
export function bpffsAt(mounts: readonly MountEntry[], mountPoint = BPFFS_MOUNT_POINT): MountEntry | undefined {
  const top = mounts.filter((m) => m.mountPoint === mountPoint).at(-1);
  return top?.fsType === 'bpf' ? top : undefined;
}

/** major:minor of the file system holding a path (glibc's dev_t encoding), or undefined. */
export function deviceOf(path: string): string | undefined {
  let dev: bigint;
  try {
    dev = statSync(path, { bigint: true }).dev;
  } catch {
    return undefined;
  }
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

export class NoPersistentBpffs extends Error {}

const HOST_FIX = `mount it on the host: mount -t bpf bpf ${BPFFS_MOUNT_POINT}`;

export interface PersistentBpffs {
  /** Path under which this process reaches the host's bpffs. */
  root: string;
  /** How it was reached, for messages. */
  via: string;
}

let resolved: PersistentBpffs | undefined;

/**
 * The host's bpffs, as this process reaches it: /sys/fs/bpf when that is
 * the host's (same namespace, or a namespace that shares the mount), else
 * through /proc/1/root, else through the root of an ancestor process that
 * sees it (PID 1 may be out of reach, e.g. not dumpable). Throws
 * NoPersistentBpffs, saying how to fix it, when there is none.
 */
export function persistentBpffs(): PersistentBpffs {
  resolved ??= findPersistentBpffs();
  return resolved;
}

function findPersistentBpffs(): PersistentBpffs {
  let hostMounts: MountEntry[];
  try {
    hostMounts = parseMountInfo(readFileSync('/proc/1/mountinfo', 'utf8'));
  } catch (err) {
    throw new NoPersistentBpffs(
      `cannot tell whether ${BPFFS_MOUNT_POINT} is the host's bpffs (reading /proc/1/mountinfo: ${(err as Error).message}); ` +
        'pins on a bpffs that is not the host\'s would vanish with this process and leave the interfaces unfiltered',
    );
  }
  const host = bpffsAt(hostMounts);
  if (!host) {
    throw new NoPersistentBpffs(
      `no bpffs is mounted at ${BPFFS_MOUNT_POINT} on the host (in PID 1's mount namespace); its pins keep XDP attached ` +
        `while no daemon runs, so xdpfw needs one: ${HOST_FIX} (and add it to /etc/fstab: bpf ${BPFFS_MOUNT_POINT} bpf defaults 0 0)`,
    );
  }
  if (deviceOf(BPFFS_MOUNT_POINT) === host.device) return { root: BPFFS_MOUNT_POINT, via: BPFFS_MOUNT_POINT };
  const viaPid1 = `/proc/1/root${BPFFS_MOUNT_POINT}`;
  if (deviceOf(viaPid1) === host.device) return { root: viaPid1, via: viaPid1 };
  for (const pid of ancestors()) {
    const found = reachThrough(pid, host.device);
    if (found) return found;
  }
  throw new NoPersistentBpffs(
    `${BPFFS_MOUNT_POINT} in this mount namespace is not the host's bpffs (as under 'ip netns exec', which mounts a fresh /sys), ` +
      `and the host's is out of reach through /proc/1/root; pins here would vanish with the daemon and leave the interfaces ` +
      `unfiltered. Run xdpfw in the host's mount namespace (e.g. nsenter --net=/run/netns/NAME xdpfw ...), ` +
      'or let it reach PID 1 through /proc',
  );
}

/**
 * The host's bpffs through an ancestor's root. The path names a pid that
 * may exit while the daemon runs, so the directory is held open and reached
 * through this process's own fd instead.
 */
function reachThrough(pid: number, device: string): PersistentBpffs | undefined {
  let mounts: MountEntry[];
  try {
    mounts = parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return undefined;
  }
  for (const m of mounts) {
    if (m.fsType !== 'bpf' || m.device !== device) continue;
    const path = `/proc/${pid}/root${m.mountPoint}`;
    if (deviceOf(path) !== device) continue;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      continue;
    }
    const root = `/proc/self/fd/${fd}`;
    if (deviceOf(root) === device) return { root, via: path };
    closeSync(fd);
  }
  return undefined;
}

/** This process's ancestors, parent first, down to (not including) PID 1. */
function ancestors(): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 1 && out.length < 64) {
    out.push(pid);
    pid = readProcStat(pid)?.ppid ?? 0;
  }
  return out;
}
