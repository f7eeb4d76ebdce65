// Frames put on a wire: sent out of one end of a veth pair by an AF_PACKET
// socket, they arrive at the other end as received frames, through its XDP
// program, as a peer's would.
import { execFileSync } from 'node:child_process';
import { closeFd, ifNameToIndex, packetSend, packetSocket } from '../../lib/dataplane/native.js';

export class Wire {
  private readonly fd = packetSocket(0);
  private readonly ifindex: number;

  /**
   * `ifname`: the end the frames leave by (the far end of the interface under test). Its own
   * IPv6 (router solicitations, MLD reports) is switched off: only the test's frames arrive.
   */
  constructor(private readonly ifname: string) {
    this.ifindex = ifNameToIndex(ifname);
    execFileSync('sysctl', ['-qw', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
  }

  send(frame: Uint8Array): void {
    const errno = packetSend(this.fd, this.ifindex, frame, 0, frame.length);
    if (errno !== 0) throw new Error(`sending ${frame.length} bytes out of ${this.ifname}: errno ${errno}`);
  }

  close(): void {
    closeFd(this.fd);
  }
}
