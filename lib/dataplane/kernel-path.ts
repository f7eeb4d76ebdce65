// The slow path's frames for the kernel: handed to its receive path as if
// just received on their interface (what XDP_PASS does), through the tcx
// egress program of bpf/kernel_path.bpf.c, or sent out of an interface as
// they are. Two AF_PACKET sockets: the marked one's frames are turned around
// into the interface's ingress, the other's leave.
import { bpfObjectPath } from '../util/paths.js';
import { type BpfObject, attachTcxEgress, btfEnum, closeFd, openObject, packetSend, packetSocket } from './native.js';

/** Where the slow path hands frames to the kernel. */
export interface KernelDelivery {
  /** As if just received on `ifindex` (what XDP_PASS does); false: it could not. */
  deliver(ifindex: number, frame: Uint8Array, length: number): boolean;
  /** Out of `ifindex` as it is; false: it could not. */
  transmit(ifindex: number, frame: Uint8Array, length: number): boolean;
}

export class KernelPath implements KernelDelivery {
  private readonly obj: BpfObject;
  private readonly links = new Map<number, number>();
  private readonly marked: number;
  private readonly plain: number;
  /** Frames the kernel did not take (a full queue, an interface gone), by errno (-1: not attached there). */
  readonly failures = new Map<number, number>();

  constructor(objectPath = bpfObjectPath('kernel_path')) {
    const mark = btfEnum(objectPath, 'xdpfw_kernel_path_constants').XDPFW_KERNEL_PATH_MARK;
    if (mark === undefined) throw new Error(`BPF object ${objectPath} lacks XDPFW_KERNEL_PATH_MARK`);
    this.obj = openObject(objectPath);
    try {
      this.marked = packetSocket(mark);
      this.plain = packetSocket(0);
    } catch (err) {
      this.obj.close();
      throw err;
    }
  }

  /** Lets the slow path hand frames received on `ifindex` to the kernel (idempotent). */
  attach(ifindex: number): void {
    if (!this.links.has(ifindex)) this.links.set(ifindex, attachTcxEgress(this.obj.progFd('xdpfw_kernel_path'), ifindex));
  }

  detach(ifindex: number): void {
    const fd = this.links.get(ifindex);
    if (fd !== undefined) closeFd(fd);
    this.links.delete(ifindex);
  }

  deliver(ifindex: number, frame: Uint8Array, length: number): boolean {
    // Without the program on it the marked frame would simply leave: never.
    if (!this.links.has(ifindex)) return this.failed(-1);
    return this.sent(packetSend(this.marked, ifindex, frame, 0, length));
  }

  transmit(ifindex: number, frame: Uint8Array, length: number): boolean {
    return this.sent(packetSend(this.plain, ifindex, frame, 0, length));
  }

  close(): void {
    for (const fd of this.links.values()) closeFd(fd);
    this.links.clear();
    closeFd(this.marked);
    closeFd(this.plain);
    this.obj.close();
  }

  private sent(errno: number): boolean {
    return errno === 0 || this.failed(errno);
  }

  private failed(errno: number): false {
    this.failures.set(errno, (this.failures.get(errno) ?? 0) + 1);
    return false;
  }
}
