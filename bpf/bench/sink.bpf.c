// SPDX-License-Identifier: MIT
/*
 * Benchmark sinks.
 *
 *   sink_count  on the receiving end of a benchmark topology: counts and
 *               drops the generator's frames (IPv4/UDP to port 9, discard),
 *               passes everything else, so TCP benchmarks keep working.
 *               Counting at XDP sees every frame that arrives, before the
 *               receiving stack could lose any.
 *   bare_drop   XDP_DROP and nothing else: the floor screens are measured
 *               against.
 *   least_land  the least a land screen that counts can do: parse Ethernet,
 *               IPv4 and TCP, compare the addresses, count the drop in one
 *               per-CPU word. No zone, no screen profile, no event budget:
 *               what is left between it and bare_drop is out of any
 *               screen's reach.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define SINK_PORT 9

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_packets SEC(".maps");

SEC("xdp")
int sink_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(SINK_PORT))
		return XDP_PASS;
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_packets, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}

SEC("xdp")
int bare_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int least_land(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_TCP)
		return XDP_PASS;
	struct tcphdr *tcp = (void *)iph + iph->ihl * 4;
	if ((void *)(tcp + 1) > data_end || iph->saddr != iph->daddr || !tcp->syn)
		return XDP_PASS;
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_packets, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}
