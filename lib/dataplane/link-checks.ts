// Start-up checks: what lets `xdpfw load` succeed and then loses traffic
// without a word. Each finding names the interface, what goes wrong and the
// command that fixes it. xdpfw never changes an interface it does not own
// (a veth's peer belongs to whoever built it), so these are warnings, shown
// by load and by status, which checks again every time: the far end can
// change after load.
import { type LinkState, linkState } from './native.js';
import type { XdpMode } from './dataplane.js';

export type LinkCheck = 'veth-peer-drops-redirects' | 'veth-peer-unknown' | 'veth-peer-tx-checksum' | 'mtu-above-slow-path';

export interface LinkWarning {
  interface: string;
  check: LinkCheck;
  /** What goes wrong, in the operator's words. */
  message: string;
  /** What fixes it. */
  fix: string;
}

const ETH_HLEN = 14;

/** Where a peer's commands must run: its namespace, as an operator would enter it. */
function inNamespace(peer: LinkState, cmd: string): string {
  const named = /^\/(?:var\/)?run\/netns\/(.+)$/.exec(peer.netns);
  if (named) return `ip netns exec ${named[1]} ${cmd}`;
  if (peer.netns) return `nsenter --net=${peer.netns} ${cmd}`;
  return cmd;
}

function where(peer: LinkState): string {
  const named = /^\/(?:var\/)?run\/netns\/(.+)$/.exec(peer.netns);
  if (named) return ` (network namespace ${named[1]})`;
  return peer.netns ? ` (network namespace of ${peer.netns})` : '';
}

/**
 * A veth hands a frame redirected by XDP to its peer only when the peer
 * polls with NAPI, i.e. runs an XDP program or has GRO on; otherwise the
 * kernel drops it (counted only as the ingress veth's rx_queue_N_drops in
 * `ethtool -S`). Frames the slow path sends from its AF_XDP sockets go the
 * ordinary way and arrive. Generic XDP redirects through the ordinary path
 * too, so only native mode is concerned.
 */
function vethPeer(own: LinkState, mode: XdpMode): LinkWarning[] {
  if (own.kind !== 'veth' || own.linkIfindex === 0) return [];
  let peer: LinkState | null = null;
  try {
    peer = linkState(own.linkIfindex, own.linkNetnsid);
  } catch {
    // Entering the peer's namespace needs CAP_SYS_ADMIN: without it, say what cannot be checked.
  }
  if (!peer) {
    return mode === 'native' ? [{
      interface: own.name, check: 'veth-peer-unknown',
      message: `${own.name} is a veth whose peer (ifindex ${own.linkIfindex}, namespace id ${own.linkNetnsid}) cannot be inspected: ` +
        'if that peer runs no XDP program and has GRO off, every frame xdpfw forwards out of ' +
        `${own.name} is dropped by the kernel`,
      fix: `run an XDP program on the peer, or turn GRO on there: ethtool -K <peer> gro on`,
    }] : [];
  }
  const out: LinkWarning[] = [];
  if (mode === 'native' && !peer.xdpAttached && peer.gro !== true) {
    out.push({
      interface: own.name, check: 'veth-peer-drops-redirects',
      message: `frames forwarded out of ${own.name} are dropped by the kernel: its veth peer ${peer.name}${where(peer)} ` +
        'runs no XDP program and has GRO off, so it cannot take frames redirected by XDP. At most the first packet of ' +
        'each flow and reject replies (sent by the slow path) get through; nothing else arrives',
      fix: `${inNamespace(peer, `ethtool -K ${peer.name} gro on`)} (or attach an XDP program to ${peer.name})`,
    });
  }
  if (peer.txChecksum === true) {
    out.push({
      interface: own.name, check: 'veth-peer-tx-checksum',
      message: `TCP and UDP sent by ${peer.name}${where(peer)}, the veth peer of ${own.name}, arrive with checksums left ` +
        'to offload (tx checksumming is on there); XDP forwards frames byte for byte, so the receiver discards ' +
        'them as corrupt. ICMP is unaffected',
      fix: inNamespace(peer, `ethtool -K ${peer.name} tx off`),
    });
  }
  return out;
}

/**
 * The slow path sees a flow's first packet (and every TCP SYN, FIN, RST)
 * through AF_XDP sockets that take frames of at most slowPathMaxFrame bytes
 * (several UMEM frames each when they are multi-buffer; one, when the kernel
 * or the driver's zero-copy mode has no multi-buffer AF_XDP); XDP drops
 * larger ones (DROP_TOO_BIG) rather than let the socket lose them.
 */
function mtu(own: LinkState, slowPathMaxFrame: number, multiBuffer: boolean): LinkWarning[] {
  if (own.mtu + ETH_HLEN <= slowPathMaxFrame) return [];
  const limit = slowPathMaxFrame - ETH_HLEN;
  const why = multiBuffer ? '' : ` (its AF_XDP sockets on ${own.name} are not multi-buffer: the kernel or the driver's ` +
    'zero-copy mode lacks XDP_USE_SG; --xdp-mode generic or a kernel from 6.6 on lifts the limit)';
  return [{
    interface: own.name, check: 'mtu-above-slow-path',
    message: `${own.name} has MTU ${own.mtu}, but the slow path takes frames of at most ${slowPathMaxFrame} bytes ` +
      `(MTU ${limit})${why}: a first packet of a flow, or a TCP SYN, FIN or RST, larger than that is dropped and counted ` +
      'as too_big_for_slow_path',
    fix: `ip link set dev ${own.name} mtu ${limit}`,
  }];
}

/**
 * Everything that would silently lose traffic on one attached interface. slowPathMaxFrame: the
 * largest frame its slow path sockets take; multiBuffer: whether they are multi-buffer.
 */
export function checkLink(ifindex: number, mode: XdpMode, slowPathMaxFrame: number, multiBuffer = true): LinkWarning[] {
  let own: LinkState | null = null;
  try {
    own = linkState(ifindex);
  } catch {
    // A check must never stop load or status.
  }
  if (!own) return [];
  return [...vethPeer(own, mode), ...mtu(own, slowPathMaxFrame, multiBuffer)];
}

/**
 * Why an interface with this many RX queues cannot be served: XDP finds a
 * queue's AF_XDP socket in a block of maxQueues slots per interface, so a
 * queue beyond them has no socket and its new flows would be lost. null
 * when it fits.
 */
export function queueLimitError(name: string, kind: string, queues: number, maxQueues: number): string | null {
  if (queues <= maxQueues) return null;
  const fix = kind === 'veth' ? `ethtool -L ${name} rx ${maxQueues} tx ${maxQueues}` : `ethtool -L ${name} combined ${maxQueues}`;
  return `interface ${name} has ${queues} receive queues; xdpfw serves at most ${maxQueues} per interface ` +
    `(one AF_XDP socket each). Reduce them first: ${fix}`;
}

/** Throws queueLimitError's message when an interface has more RX queues than XDP can serve. */
export function refuseTooManyQueues(name: string, ifindex: number, queues: number, maxQueues: number): void {
  if (queues <= maxQueues) return;
  let kind = '';
  try {
    kind = linkState(ifindex)?.kind ?? '';
  } catch {
    // Only the wording of the fix depends on it.
  }
  const error = queueLimitError(name, kind, queues, maxQueues);
  if (error) throw new Error(error);
}

export function formatWarning(w: LinkWarning): string {
  return `warning: ${w.message}.\n  fix: ${w.fix}`;
}
