// What the commands that load the dataplane need, said before they fail
// halfway with a bare EPERM: loading BPF programs and maps and attaching XDP
// take CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN, which root has.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

function effectiveCapabilities(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.slice('CapEff:'.length).trim()}`) : 0n;
}

const has = (caps: bigint, cap: bigint): boolean => ((caps >> cap) & 1n) === 1n;

function whoAmI(): string {
  const uid = process.geteuid?.() ?? -1;
  try {
    return `${userInfo().username} (uid ${uid})`;
  } catch {
    return `uid ${uid}`;
  }
}

/** Throws a message naming what is missing unless this process may load and attach XDP programs. */
export function requireDataplanePrivileges(command: string): void {
  const caps = effectiveCapabilities();
  if (has(caps, CAP_NET_ADMIN) && (has(caps, CAP_BPF) || has(caps, CAP_SYS_ADMIN))) return;
  throw new Error(
    `'xdpfw ${command}' must run as root: it loads BPF programs and attaches XDP to interfaces, ` +
      `which takes CAP_BPF and CAP_NET_ADMIN; you are ${whoAmI()}, without them. Run it with sudo.`,
  );
}
