// SPDX-License-Identifier: MIT
/*
 * The minimal XDP forwarder xdpfw's fast path is measured against: route
 * lookup, TTL decrement, MAC rewrite, redirect. No sessions, no screens, no
 * counters. IPv4 only (the benchmark traffic); anything else goes to the
 * kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "min_fwd.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
int min_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ttl <= 1)
		return XDP_PASS;

	__u32 ifindex = min_fwd_rewrite(ctx, eth, iph);
	return ifindex ? bpf_redirect(ifindex, 0) : XDP_PASS;
}
