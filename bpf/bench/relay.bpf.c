// SPDX-License-Identifier: MIT
/*
 * The minimal AF_XDP relay's XDP side (test/bench/tools/xsk-relay.c): the
 * minimal forwarder (route lookup, TTL, MACs, redirect), except that a TCP
 * SYN (no ACK) goes, rewritten, to the AF_XDP socket of its rx queue with
 * the time it arrived (bpf_ktime_get_ns, CLOCK_MONOTONIC) in front of the frame.
 * Userspace sends it on unjudged: what any userspace slow path's one
 * crossing per connection costs on this machine, wake-up included.
 * IPv4 only (the benchmark's traffic); anything else goes to the kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "min_fwd.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} relay_xsks SEC(".maps");

/* In front of a relayed SYN (the relay reads it at addr - 8). */
struct relay_meta {
	__u64 xdp_ns;
};

SEC("xdp")
int syn_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ttl <= 1)
		return XDP_PASS;
	int syn = 0;
	if (iph->protocol == IPPROTO_TCP && iph->ihl == 5) {
		struct tcphdr *tcp = (void *)(iph + 1);
		if ((void *)(tcp + 1) > data_end)
			return XDP_PASS;
		syn = tcp->syn && !tcp->ack;
	}

	__u32 ifindex = min_fwd_rewrite(ctx, eth, iph);
	if (!ifindex)
		return XDP_PASS;
	if (!syn)
		return bpf_redirect(ifindex, 0);

	__u64 now = bpf_ktime_get_ns();
	/* In front of the frame, as its first bytes (as xdpfw_rx does: some kernels
	 * refuse bpf_xdp_adjust_meta); the relay sends what follows it. */
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct relay_meta)))
		return XDP_PASS;
	struct relay_meta *meta = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > (void *)(long)ctx->data_end)
		return XDP_PASS;
	meta->xdp_ns = now;
	return bpf_redirect_map(&relay_xsks, ctx->rx_queue_index, XDP_PASS);
}
