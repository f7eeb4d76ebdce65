// SPDX-License-Identifier: MIT
/*
 * Passes every frame to the kernel. Test and demo topologies attach it to
 * the far end of a veth pair: a veth only accepts frames redirected into it
 * by XDP when its peer has an XDP program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
