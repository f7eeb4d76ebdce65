/* SPDX-License-Identifier: MIT */
/*
 * A session's one entry in xdpfw_sessions, found by the packets of both
 * directions (struct xdpfw_flow_key): the packet's tuple with its endpoints
 * put in the key's fixed order, and the packet's direction from which of
 * them the entry says is the client. Like Cilium's conntrack, one tuple and
 * a direction; unlike it, one lookup: the order makes both directions'
 * keys the same, so no second lookup with the tuple reversed.
 *
 * The direction is kept in pkt->dir and applied as an offset into the
 * entry's per-direction arrays (session_at()), never as a branch between
 * two pointers: each such branch would double the paths the verifier walks
 * after it.
 *
 * Needs, from the includer: xdpfw_sessions, and nat_session.h.
 */
#ifndef XDPFW_SESSION_ENTRY_H
#define XDPFW_SESSION_ENTRY_H

#include "parse.h"
#include "session_dir.h"
#include "nat_session.h"

/* 1 when the tuple's destination endpoint sorts before its source (the key
 * holds them swapped): addresses byte by byte as on the wire, then ports
 * as numbers. IPv4 leaves addr[1..3] zero, so one walk serves both families. */
static __always_inline __u32 tuple_swapped(const struct xdpfw_session_key *t)
{
	__u32 s0 = bpf_ntohl(t->src_addr[0]), d0 = bpf_ntohl(t->dst_addr[0]);
	__u32 s1 = bpf_ntohl(t->src_addr[1]), d1 = bpf_ntohl(t->dst_addr[1]);
	__u32 s2 = bpf_ntohl(t->src_addr[2]), d2 = bpf_ntohl(t->dst_addr[2]);
	__u32 s3 = bpf_ntohl(t->src_addr[3]), d3 = bpf_ntohl(t->dst_addr[3]);
	if (s0 != d0)
		return s0 > d0;
	if (s1 != d1)
		return s1 > d1;
	if (s2 != d2)
		return s2 > d2;
	if (s3 != d3)
		return s3 > d3;
	return bpf_ntohs(t->src_port) > bpf_ntohs(t->dst_port);
}

/* The flow key of tuple t, built in *k; returns tuple_swapped(t). */
static __always_inline __u32 flow_key_of(const struct xdpfw_session_key *t, struct xdpfw_flow_key *k)
{
	__u32 swapped = tuple_swapped(t);
	k->family = t->family;
	k->protocol = t->protocol;
	k->pad = 0;
	if (swapped) {
		k->port[0] = t->dst_port;
		k->port[1] = t->src_port;
		__builtin_memcpy(k->addr[0], t->dst_addr, 16);
		__builtin_memcpy(k->addr[1], t->src_addr, 16);
	} else {
		k->port[0] = t->src_port;
		k->port[1] = t->dst_port;
		__builtin_memcpy(k->addr[0], t->src_addr, 16);
		__builtin_memcpy(k->addr[1], t->dst_addr, 16);
	}
	return swapped;
}

/*
 * The session entry of a packet with tuple t, or NULL; *dir: the packet's
 * direction in it (0: from the client). A function of its own, so the
 * 40-byte key is built in its frame: xdpfw_rx's deepest call chain (through
 * the screens) already spends the whole 512 bytes of stack.
 *
 * A tuple no session has may be a translated session's (NAT, nat_session.h):
 * looked up in xdpfw_nat_sessions only while NAT is configured, so traffic
 * of a box without NAT pays one array read on a miss, nothing on a hit.
 */
static __noinline struct xdpfw_session *session_lookup(const struct xdpfw_session_key *t, __u8 *dir)
{
	struct xdpfw_flow_key k;
	__u32 swapped = flow_key_of(t, &k);
	struct xdpfw_session *s = bpf_map_lookup_elem(&xdpfw_sessions, &k);
	if (s) {
		/* Source first and client first, or neither: from the client. Read
		 * from the entry, the direction is a value the verifier does not know,
		 * one state for both directions. */
		*dir = (s->client_is_first ^ !swapped) & 1;
		return s;
	}
	if (!nat_active())
		return NULL;
	const struct xdpfw_nat_session *n = bpf_map_lookup_elem(&xdpfw_nat_sessions, &k);
	/* A translated tuple serves the packets of one direction only. */
	if (!n || n->swapped != swapped)
		return NULL;
	s = bpf_map_lookup_elem(&xdpfw_sessions, &n->session);
	if (!s)
		return NULL;
	*dir = n->dir & 1;
	return s;
}

#endif
