// SPDX-License-Identifier: MIT
/*
 * Benchmark traffic generator, run through BPF_PROG_RUN with live frames
 * (repeat = frames to send). Every frame is an IPv4/UDP template whose
 * headers are rewritten as flow number `seq` (counting up from where
 * userspace set it, modulo `flows`), then redirected out of `ifindex`.
 *
 * Live frames come from a page pool and are recycled after the forwarder
 * under test has rewritten them (MACs, TTL), so every field that anyone
 * downstream changes is written here absolutely, and the IPv4 checksum is
 * computed from scratch. The UDP checksum is 0 (none, legal for IPv4).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct gen_config {
	__u32 ifindex;   /* frames leave here */
	__u32 flows;     /* distinct flows before the numbers repeat (>= 1) */
	__u32 ports;     /* source ports per source address (>= 1) */
	__u32 addr_base; /* first source address, host order */
	__u16 port_base; /* first source port */
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_config);
} gen_config SEC(".maps");

/* The next flow number; one generator thread at a time writes it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_seq SEC(".maps");

static __always_inline __u16 ipv4_checksum(struct iphdr *iph)
{
	__u16 *w = (__u16 *)iph;
	__u32 sum = 0;
	iph->check = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int trafficgen(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct gen_config *cfg = bpf_map_lookup_elem(&gen_config, &zero);
	__u64 *seq = bpf_map_lookup_elem(&gen_seq, &zero);
	if (!cfg || !seq || cfg->flows == 0 || cfg->ports == 0)
		return XDP_ABORTED;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);
	if ((void *)(udp + 1) > data_end || iph->ihl != 5 || iph->protocol != IPPROTO_UDP)
		return XDP_ABORTED;

	__u32 flow = (__u32)(*seq % cfg->flows);
	*seq += 1;
	__builtin_memcpy(eth->h_dest, cfg->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->smac, ETH_ALEN);
	iph->ttl = 64;
	iph->saddr = bpf_htonl(cfg->addr_base + flow / cfg->ports);
	iph->check = ipv4_checksum(iph);
	udp->source = bpf_htons(cfg->port_base + flow % cfg->ports);
	udp->check = 0;
	return bpf_redirect(cfg->ifindex, 0);
}
