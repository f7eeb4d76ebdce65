// XDP pushes struct xdpfw_rx_meta as the first bytes of every frame it sends to the slow path
// (bpf/xdpfw.bpf.c write_rx_meta: some kernels refuse bpf_xdp_adjust_meta). A received
// descriptor therefore spans the metadata and the frame; after this, it names the frame alone
// and the metadata sits right in front of it, where FrameReader reads it.
import { RX_META } from '../dataplane/layout.js';

const META = RX_META.size;

/**
 * Moves each of the n [offset, length] pairs in descs past its metadata. A descriptor too short
 * to hold any is left with length 0, which FrameReader refuses (counted as bad metadata).
 */
export function stripRxMeta(descs: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const length = descs[2 * i + 1]!;
    if (length < META) {
      descs[2 * i + 1] = 0;
      continue;
    }
    descs[2 * i] = descs[2 * i]! + META;
    descs[2 * i + 1] = length - META;
  }
}
