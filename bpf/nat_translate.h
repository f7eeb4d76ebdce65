/* SPDX-License-Identifier: MIT */
/*
 * Rewrites a packet of a translated session (XDPFW_SESS_NAT) to what its
 * xdpfw_nat_sessions entry says, before its route is looked up: the route
 * is the translated destination's. Global functions, verified once: as
 * static ones, inlined or not, they cost xdpfw_rx about 200,000 verifier
 * instructions (one walk per state of each of its three forwarding calls).
 *
 * Needs, from the includer: session_entry.h.
 */
#ifndef XDPFW_NAT_TRANSLATE_H
#define XDPFW_NAT_TRANSLATE_H

#include "session_entry.h"

enum nat_translate_result {
	NAT_TRANSLATED = NAT_REWRITTEN,
	NAT_BAD_FRAME = NAT_MALFORMED,
	NAT_NO_TRANSLATION, /* the session's tuple in an order no packet of it has once translated */
};

/* The entry for packets arriving with tuple t, or NULL. */
static __always_inline const struct xdpfw_nat_session *nat_entry_of(const struct xdpfw_session_key *t,
								    struct xdpfw_flow_key *k)
{
	__u32 swapped = flow_key_of(t, k);
	const struct xdpfw_nat_session *n = bpf_map_lookup_elem(&xdpfw_nat_sessions, k);
	return n && n->swapped == swapped ? n : NULL;
}

/* Offsets are below 16 KiB (XDPFW_SLOW_PATH_MAX_FRAME). */
#define NAT_OFFSET_BITS 14
#define NAT_OFFSET_MASK ((1 << NAT_OFFSET_BITS) - 1)
#define NAT_WHERE_L4 (1u << (2 * NAT_OFFSET_BITS))

/* Where a parsed packet's headers are, as one scalar: packet pointers do
 * not cross into a global function, and a pointer to the struct packet
 * would make the verifier forget the ones its caller keeps there. */
static __always_inline __u32 nat_where(const struct packet *pkt)
{
	return (pkt->l3_offset & NAT_OFFSET_MASK) | (__u32)(pkt->l4_offset & NAT_OFFSET_MASK) << NAT_OFFSET_BITS |
	       (pkt->flags & PKT_L4 ? NAT_WHERE_L4 : 0);
}

/* The headers found again from nat_where(), in *q (what nat_rewrite() reads). */
static __always_inline int nat_headers(struct xdp_md *ctx, const struct xdpfw_session_key *t, __u32 where,
				       struct packet *q)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *l3 = data + (where & NAT_OFFSET_MASK);
	q->ip4 = NULL;
	q->ip6 = NULL;
	q->l4 = NULL;
	q->flags = where & NAT_WHERE_L4 ? PKT_L4 : 0;
	q->key.protocol = t->protocol;
	if (t->family == AF_INET) {
		if (l3 + sizeof(struct iphdr) > data_end)
			return -1;
		q->ip4 = l3;
	} else {
		if (l3 + sizeof(struct ipv6hdr) > data_end)
			return -1;
		q->ip6 = l3;
	}
	if (where & NAT_WHERE_L4) {
		void *l4 = data + ((where >> NAT_OFFSET_BITS) & NAT_OFFSET_MASK);
		if (l4 > data_end)
			return -1;
		q->l4 = l4;
	}
	return 0;
}

/*
 * A packet (whole or a fragment) of a translated session, with tuple t and
 * headers at `where` (nat_where()).
 */
__noinline int xdpfw_nat_translate(struct xdp_md *ctx, const struct xdpfw_session_key *t, __u32 where)
{
	struct xdpfw_flow_key k;
	struct packet q;
	if (!ctx || !t)
		return NAT_BAD_FRAME;
	const struct xdpfw_nat_session *n = nat_entry_of(t, &k);
	if (!n)
		return NAT_NO_TRANSLATION;
	if (nat_headers(ctx, t, where, &q))
		return NAT_BAD_FRAME;
	return nat_rewrite(&q, (void *)(long)ctx->data_end, &n->to);
}

/*
 * An ICMP error (tuple t, headers at `where`) along a translated session;
 * `quoted`: the quoted packet's tuple reversed (icmp_error_key()), the tuple
 * of the packets the error travels with. The quote becomes what its packet
 * was before translation (the entry's tuple reversed), the error goes to
 * where those packets go, and from the translated address when it came from
 * the quoted destination itself (a router on the way keeps its own).
 */
__noinline int xdpfw_nat_translate_icmp_error(struct xdp_md *ctx, const struct xdpfw_session_key *t, __u32 where,
					      const struct xdpfw_session_key *quoted)
{
	struct xdpfw_flow_key k;
	struct packet q;
	if (!ctx || !t || !quoted)
		return NAT_BAD_FRAME;
	const struct xdpfw_nat_session *n = nat_entry_of(quoted, &k);
	if (!n)
		return NAT_NO_TRANSLATION;
	struct xdpfw_nat_tuple outer = {}, inner = {};
	__builtin_memcpy(inner.src_addr, n->to.dst_addr, 16);
	__builtin_memcpy(inner.dst_addr, n->to.src_addr, 16);
	inner.src_port = n->to.dst_port;
	inner.dst_port = n->to.src_port;
	__builtin_memcpy(outer.dst_addr, n->to.dst_addr, 16);
	int from_quoted = t->src_addr[0] == quoted->src_addr[0] && t->src_addr[1] == quoted->src_addr[1] &&
			  t->src_addr[2] == quoted->src_addr[2] && t->src_addr[3] == quoted->src_addr[3];
	if (from_quoted)
		__builtin_memcpy(outer.src_addr, n->to.src_addr, 16);
	else
		__builtin_memcpy(outer.src_addr, t->src_addr, 16);
	if (nat_headers(ctx, t, where, &q))
		return NAT_BAD_FRAME;
	return nat_rewrite_icmp_error(&q, (void *)(long)ctx->data_end, &outer, &inner);
}

#endif
