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
 * A session keeps a next hop per direction (struct xdpfw_egress: the MAC
 * alone); the source MAC and the MTU are the egress interface's, in its
 * port entry (struct xdpfw_egress_port), shared by every session leaving
 * there. The routing table and the egress interface are the session's
 * (its verdict row and the other direction's ingress), which the daemon
 * never changes without clearing the kept next hops. A packet they do not
 * fit (larger than the port's MTU, an IPv4 packet while routes select by
 * TOS) is looked up as before, so every outcome of the lookup (no
 * neighbour, route moved, MTU, unreachable) is what it always was.
 */
#ifndef XDPFW_EGRESS_CACHE_H
#define XDPFW_EGRESS_CACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"
#include "parse.h"
#include "session_dir.h"

/* The single entry of xdpfw_route_lease. */
enum xdpfw_route_lease_flags {
	/* A routing rule or an IPv4 route selects by TOS: an IPv4 packet's route
	 * may depend on its DSCP, which a kept next hop does not record, so IPv4
	 * packets are looked up every time. */
	XDPFW_ROUTE_LEASE_TOS = 1,
};

struct xdpfw_route_lease {
	__u32 generation;     /* bumped by the daemon after every route, neighbour, link or address change; 0: none */
	__u32 flags;          /* enum xdpfw_route_lease_flags */
	__u64 valid_until_ns; /* CLOCK_MONOTONIC: kept egresses are used until then (renewed by the daemon) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_route_lease);
} xdpfw_route_lease SEC(".maps");

enum xdpfw_route_lease_flags xdpfw_btf_route_lease_flags __attribute__((unused));

static const __u32 route_lease_key = 0;

/* The generation a kept egress may be used and written under now; 0: none
 * (no lease, or it ran out); *flags: the lease's. `now`: the coarse clock,
 * which trails CLOCK_MONOTONIC by a tick at most. */
static __always_inline __u32 route_generation(__u64 now, __u32 *flags)
{
	struct xdpfw_route_lease *l = bpf_map_lookup_elem(&xdpfw_route_lease, &route_lease_key);
	*flags = 0;
	if (!l)
		return 0;
	__u32 g = *(volatile __u32 *)&l->generation;
	if (now >= *(volatile __u64 *)&l->valid_until_ns)
		return 0;
	*flags = l->flags;
	return g;
}

/* Where each interface's kept next hops share their source MAC and MTU:
 * an array, so that the lookup on every forwarded packet is inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_EGRESS_PORT_SLOTS);
	__type(key, __u32); /* ifindex % XDPFW_EGRESS_PORT_SLOTS */
	__type(value, struct xdpfw_egress_port);
} xdpfw_egress_ports SEC(".maps");

static __always_inline struct xdpfw_egress_port *egress_port_slot(__u32 ifindex)
{
	__u32 slot = ifindex & (XDPFW_EGRESS_PORT_SLOTS - 1);
	return bpf_map_lookup_elem(&xdpfw_egress_ports, &slot);
}

/*
 * Whether direction dir's kept next hop holds for this packet under
 * generation g, leaving by out_ifindex (the other direction's ingress):
 * the port's slot then gives the source MAC (copied to smac). IPv4 packets
 * use it only while the lease says no routing rule or route selects by TOS
 * (XDPFW_ROUTE_LEASE_TOS): the entry keeps no DSCP to compare with. The
 * slot is read without its lock, so its owner and generation are checked
 * again after the copy: a takeover in between (the writer clears the owner
 * first) sends the packet to a lookup instead.
 */
static __always_inline int egress_fits(struct xdpfw_session *sess, const struct packet *pkt, __u32 g,
				       __u32 lease_flags, __u32 out_ifindex, __u8 *smac)
{
	if (!g || sess->egress.generation != g || !(sess->egress_kept & (1 << (pkt->dir & 1))))
		return 0;
	if (pkt->ip4 && (lease_flags & XDPFW_ROUTE_LEASE_TOS))
		return 0;
	struct xdpfw_egress_port *p = egress_port_slot(out_ifindex);
	if (!p || *(volatile __u32 *)&p->ifindex != out_ifindex ||
	    *(volatile __u32 *)&p->generation != g || pkt->l3_len > p->mtu)
		return 0;
	__builtin_memcpy(smac, p->smac, ETH_ALEN);
	asm volatile("" ::: "memory");
	return *(volatile __u32 *)&p->ifindex == out_ifindex && *(volatile __u32 *)&p->generation == g;
}

/* Notes a successful lookup's route MTU and source MAC in its port's slot
 * under generation g, taking the slot over from another interface. */
static __always_inline int egress_port_keep(__u32 g, __u32 ifindex, __u16 mtu, const __u8 *smac)
{
	struct xdpfw_egress_port *p = egress_port_slot(ifindex);
	if (!p)
		return 0;
	bpf_spin_lock(&p->lock);
	if (p->ifindex != ifindex || p->generation != g) {
		/* Not usable while it is written: readers check the owner after. */
		*(volatile __u32 *)&p->ifindex = 0;
		asm volatile("" ::: "memory");
		p->generation = g;
		p->mtu = mtu;
		__builtin_memcpy(p->smac, smac, ETH_ALEN);
		asm volatile("" ::: "memory");
		*(volatile __u32 *)&p->ifindex = ifindex;
	} else if (mtu < p->mtu) {
		p->mtu = mtu; /* the smallest of this generation's routes through it */
	}
	bpf_spin_unlock(&p->lock);
	return 1;
}

/* Keeps a successful lookup's next hop for direction dir, found under
 * generation g (read before the lookup, so a change during it leaves the
 * next hop under the older generation). The other direction's kept next
 * hop survives only under the same generation. */
static __always_inline void egress_keep(struct xdpfw_session *sess, const struct packet *pkt, __u32 g,
					__u32 ifindex, __u16 mtu, const __u8 *dmac, const __u8 *smac)
{
	if (!egress_port_keep(g, ifindex, mtu, smac))
		return;
	__u8 bit = 1 << (pkt->dir & 1);
	struct xdpfw_egress *e = &sess->egress;
	__u8 kept = *(volatile __u8 *)&sess->egress_kept;
	if (*(volatile __u32 *)&e->generation != g)
		kept = 0;
	/* Not usable while it is written: its bit is cleared first. */
	*(volatile __u8 *)&sess->egress_kept = kept & ~bit;
	asm volatile("" ::: "memory");
	__builtin_memcpy(session_at(__u8, sess, egress.dmac, pkt->dir), dmac, ETH_ALEN);
	*(volatile __u32 *)&e->generation = g;
	asm volatile("" ::: "memory");
	*(volatile __u8 *)&sess->egress_kept = kept | bit;
}

#endif
