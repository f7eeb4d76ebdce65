/* SPDX-License-Identifier: MIT */
/*
 * An established session's egress (interface, MACs, route MTU) kept in its
 * entry (struct xdpfw_egress), so its packets are forwarded without a
 * bpf_fib_lookup() each: the lookup is most of what forwarding costs.
 *
 * Routes, neighbours, links and addresses change without XDP seeing it, so
 * a kept egress holds only under the route generation it was found under,
 * and only while the daemon's lease on that generation runs
 * (xdpfw_route_lease, written by lib/routes/route-watch.ts): the daemon
 * writes a new generation after every change its netlink listener reports,
 * and renews the lease a few times a second while that listener runs. A
 * daemon that stops, or a listener that dies or falls behind, stops
 * renewing, and within the lease every packet is looked up again: a kept
 * egress is never used past a change the daemon could have missed.
 *
 * A packet the kept egress does not fit (larger than its MTU, another IPv4
 * DSCP, another table or egress interface in its entry) is looked up as
 * before, so every outcome of the lookup (no neighbour, route moved, MTU,
 * unreachable) is what it always was.
 */
#ifndef XDPFW_EGRESS_CACHE_H
#define XDPFW_EGRESS_CACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"
#include "parse.h"

/* The single entry of xdpfw_route_lease. */
struct xdpfw_route_lease {
	__u32 generation;     /* bumped by the daemon after every route, neighbour, link or address change; 0: none */
	__u32 pad;
	__u64 valid_until_ns; /* CLOCK_MONOTONIC: kept egresses are used until then (renewed by the daemon) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_route_lease);
} xdpfw_route_lease SEC(".maps");

static const __u32 route_lease_key = 0;

/* The generation a kept egress may be used and written under now; 0: none
 * (no lease, or it ran out). `now`: the coarse clock, which trails
 * CLOCK_MONOTONIC by a tick at most. */
static __always_inline __u32 route_generation(__u64 now)
{
	struct xdpfw_route_lease *l = bpf_map_lookup_elem(&xdpfw_route_lease, &route_lease_key);
	if (!l)
		return 0;
	__u32 g = *(volatile __u32 *)&l->generation;
	if (now >= *(volatile __u64 *)&l->valid_until_ns)
		return 0;
	return g;
}

/* What of the TOS the route lookup depends on: the DSCP (the kernel leaves
 * out the ECN bits, which may change within a flow). */
static __always_inline __u8 egress_tos(const struct packet *pkt)
{
	return pkt->ip4 ? pkt->ip4->tos & 0xfc : 0;
}

/* Whether the entry's kept egress holds for this packet under generation g. */
static __always_inline int egress_fits(const struct xdpfw_session *sess, const struct packet *pkt,
				       __u32 table_id, __u32 g)
{
	const struct xdpfw_egress *e = &sess->egress;
	return g && e->generation == g && e->ifindex == sess->egress_ifindex &&
	       e->table_id == table_id && pkt->l3_len <= e->mtu && e->tos == egress_tos(pkt);
}

/* Keeps a successful lookup's egress in the entry, found under generation
 * g (read before the lookup, so a change during it leaves the kept egress
 * under the older generation). The generation is written last. */
static __always_inline void egress_keep(struct xdpfw_session *sess, const struct packet *pkt,
					__u32 table_id, __u32 g, __u32 ifindex, __u16 mtu,
					const __u8 *dmac, const __u8 *smac)
{
	struct xdpfw_egress *e = &sess->egress;
	*(volatile __u32 *)&e->generation = 0;
	asm volatile("" ::: "memory"); /* the fields after the generation is cleared */
	e->ifindex = ifindex;
	e->table_id = table_id;
	e->mtu = mtu;
	e->tos = egress_tos(pkt);
	__builtin_memcpy(e->dmac, dmac, ETH_ALEN);
	__builtin_memcpy(e->smac, smac, ETH_ALEN);
	asm volatile("" ::: "memory"); /* and before it is set */
	*(volatile __u32 *)&e->generation = g;
}

#endif
