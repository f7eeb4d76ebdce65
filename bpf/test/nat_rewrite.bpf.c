/* SPDX-License-Identifier: MIT */
/*
 * Runs NAT's packet rewrite (bpf/nat_rewrite.h) on a test frame under
 * BPF_PROG_RUN: slot 0 of nat_test_tuples is the tuple a packet (or an ICMP
 * error itself) gets, slot 1 the tuple of the packet an ICMP error quotes.
 * XDP_TX when rewritten, XDP_ABORTED when the rewrite refused the frame,
 * XDP_PASS when the frame did not parse.
 */
#include "../parse.h"
#include "../icmp_error.h"
#include "../nat_rewrite.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct xdpfw_nat_tuple);
} nat_test_tuples SEC(".maps");

SEC("xdp")
int nat_rewrite_test(struct xdp_md *ctx)
{
	struct packet pkt;
	if (parse_packet(ctx, &pkt) != PARSE_OK && !(pkt.flags & PKT_FRAGMENT))
		return XDP_PASS;
	__u32 zero = 0, one = 1;
	struct xdpfw_nat_tuple *to = bpf_map_lookup_elem(&nat_test_tuples, &zero);
	struct xdpfw_nat_tuple *inner = bpf_map_lookup_elem(&nat_test_tuples, &one);
	if (!to || !inner)
		return XDP_ABORTED;
	void *data_end = (void *)(long)ctx->data_end;
	int r = icmp_is_error(&pkt) ? nat_rewrite_icmp_error(&pkt, data_end, to, inner) : nat_rewrite(&pkt, data_end, to);
	return r == NAT_REWRITTEN ? XDP_TX : XDP_ABORTED;
}
