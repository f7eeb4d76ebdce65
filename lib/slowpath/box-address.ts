// The box's own address on an interface, as the kernel would pick it for an ICMP error it sends
// back through that interface: an address of the right family on that interface, one whose
// prefix holds the destination first, then a global one before a link-local one. Read from the
// kernel (getifaddrs) at most once a second per lookup miss, so the daemon follows address changes.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ifIndexToName } from '../dataplane/native.js';

interface Candidate {
  bytes: Uint8Array;
  prefix: number;
  linkLocal: boolean;
}

function parseAddress(text: string): Uint8Array {
  if (isIP(text) === 4) return Uint8Array.from(text.split('.').map(Number));
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >>> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

export class BoxAddresses {
  private readonly byIfindex = new Map<number, Candidate[]>();
  private readAt = -Infinity;

  constructor(
    private readonly now: () => number = () => Date.now(),
    /** The kernel's addresses by interface name, and an interface's name (injectable for tests). */
    private readonly read: () => ReturnType<typeof networkInterfaces> = networkInterfaces,
    private readonly nameOf: (ifindex: number) => string = ifIndexToName,
  ) {}

  private names: ReturnType<typeof networkInterfaces> = {};

  private refresh(): void {
    this.readAt = this.now();
    this.names = this.read();
    this.byIfindex.clear();
  }

  private candidates(ifindex: number): Candidate[] {
    let name: string;
    try {
      name = this.nameOf(ifindex);
    } catch {
      return [];
    }
    return (this.names[name] ?? []).filter((a) => !a.internal).map((a) => ({
      bytes: parseAddress(a.address.split('%')[0]!),
      prefix: Number(a.cidr?.split('/')[1] ?? (a.family === 'IPv4' ? 32 : 128)),
      linkLocal: a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80'),
    }));
  }

  /** The address of the box on `ifindex` to answer `destination` from (4 or 16 bytes); null if none. */
  source(ifindex: number, destination: Uint8Array): Uint8Array | null {
    let found = this.pick(ifindex, destination);
    if (found === null && this.now() - this.readAt >= 1000) {
      this.refresh();
      found = this.pick(ifindex, destination);
    }
    return found;
  }

  private pick(ifindex: number, destination: Uint8Array): Uint8Array | null {
    let list = this.byIfindex.get(ifindex);
    if (list === undefined || list.length === 0) {
      list = this.candidates(ifindex);
      this.byIfindex.set(ifindex, list);
    }
    const family = list.filter((c) => c.bytes.length === destination.length);
    const onLink = family.find((c) => samePrefix(c.bytes, destination, c.prefix));
    return (onLink ?? family.find((c) => !c.linkLocal) ?? family[0])?.bytes ?? null;
  }
}
