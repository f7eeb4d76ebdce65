/* SPDX-License-Identifier: MIT */
/* The minimal forwarder's work on an IPv4 frame (bpf/bench/fwd.bpf.c), shared
 * with the AF_XDP relay, which is that forwarder but for SYNs: route lookup,
 * TTL decrement with an RFC 1624 checksum update, MAC rewrite. */
#ifndef XDPFW_BENCH_MIN_FWD_H
#define XDPFW_BENCH_MIN_FWD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

/* Rewrites the frame for its next hop; the egress ifindex, or 0 when the
 * kernel must take it (no route or neighbour). iph is bounds-checked by the
 * caller. */
static __always_inline __u32 min_fwd_rewrite(struct xdp_md *ctx, struct ethhdr *eth, struct iphdr *iph)
{
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET;
	fib.tos = iph->tos;
	fib.l4_protocol = iph->protocol;
	fib.tot_len = bpf_ntohs(iph->tot_len);
	fib.ipv4_src = iph->saddr;
	fib.ipv4_dst = iph->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return 0;

	__u32 check = (__u32)iph->check + (__u32)bpf_htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xFFFF));
	iph->ttl--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return fib.ifindex;
}

#endif
