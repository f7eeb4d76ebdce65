/* SPDX-License-Identifier: MIT */
/*
 * Checks that bind packets to where they may come from:
 *  - a session direction is bound to its ingress interface: a packet whose
 *    key matches an entry but arrives elsewhere never uses it;
 *  - a session's egress is the one its policy was checked for: a route that
 *    moved elsewhere sends the packet to the slow path, which checks again;
 *  - IPv6 neighbour discovery and MLD reach the kernel only when addressed
 *    to the box, ND only with hop limit 255 (RFC 4861 §6.1, 7.1, 8.1): the
 *    kernel would otherwise forward them past the policies;
 *  - non-IP EtherTypes other than ARP reach the kernel only when configured
 *    to (xdpfw_pass_ethertypes);
 *  - the `ip spoofing` screen: a reverse-path lookup of the source address
 *    must leave by the ingress interface.
 * Every function only decides; the caller counts and acts.
 */
#ifndef XDPFW_VERIFY_H
#define XDPFW_VERIFY_H

#include "parse.h"
#include "session_dir.h"

#define XDPFW_MAX_PASS_ETHERTYPES 64

/* EtherTypes (network byte order) passed to the kernel from zone interfaces
 * besides IP and ARP; written from `security flow pass-ethertype`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_PASS_ETHERTYPES);
	__type(key, __u16);
	__type(value, __u8);
} xdpfw_pass_ethertypes SEC(".maps");

/* Whether a non-IP frame may go to the kernel. */
static __always_inline int non_ip_passes(const struct packet *pkt)
{
	__u16 type = pkt->ethertype;
	if (type == bpf_htons(ETH_P_ARP))
		return 1;
	return bpf_map_lookup_elem(&xdpfw_pass_ethertypes, &type) != NULL;
}

/* Whether direction dir of the session arrives on this interface. */
static __always_inline int session_bound_here(struct xdpfw_session *sess, __u8 dir, __u32 ingress_ifindex)
{
	return *session_at(__u32, sess, ingress_ifindex, dir) == ingress_ifindex;
}

/* Whether a forwarded packet's route still leaves by the interface its
 * session's policy was checked for: the other direction's ingress. */
static __always_inline int route_unchanged(struct xdpfw_session *sess, __u8 dir, __u32 egress_ifindex)
{
	return *session_at(__u32, sess, ingress_ifindex, session_other(dir)) == egress_ifindex;
}

/* A route lookup of `dst` from the ingress interface, the next hop's
 * neighbour not needed: returns the BPF_FIB_LKUP_RET_* code, *ifindex the
 * interface the route leaves by. */
static __always_inline int route_of(struct xdp_md *ctx, const struct packet *pkt, const __u32 *dst,
				    const __u32 *src, __u32 in_ifindex, __u32 *ifindex)
{
	struct bpf_fib_lookup fib;
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = in_ifindex;
	if (pkt->key.family == AF_INET) {
		fib.family = AF_INET;
		fib.ipv4_dst = dst[0];
		fib.ipv4_src = src[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, dst, 16);
		__builtin_memcpy(fib.ipv6_src, src, 16);
	}
	int rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	*ifindex = fib.ifindex;
	return rc;
}

#define ICMPV6_MLD_QUERY 130
#define ICMPV6_ROUTER_SOLICIT 133
#define ICMPV6_REDIRECT 137

static __always_inline int ipv6_link_local(const __u32 *a)
{
	return (a[0] & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000);
}

/* ff02::/16: link-scope multicast (all-nodes, all-routers, solicited-node, MLDv2 reports). */
static __always_inline int ipv6_link_multicast(const __u32 *a)
{
	return (a[0] & bpf_htonl(0xffff0000)) == bpf_htonl(0xff020000);
}

/*
 * Whether an ICMPv6 ND or MLD message (parse.h PARSE_NEIGHBOR) is for the
 * box: to a link-local or link-scope multicast address, or to one of the
 * box's own addresses (the route lookup does not forward it), and, for
 * router/neighbour discovery and redirects, with hop limit 255, which proves
 * it was sent on this link.
 */
static __noinline int neighbor_for_box(struct xdp_md *ctx, const struct packet *pkt)
{
	/* A call of its own: the route lookup's 64 bytes stay off the stack of
	 * xdpfw_rx, which also calls down into the session stage. */
	if (!pkt->ip6)
		return 0;
	if (pkt->icmp_type >= ICMPV6_ROUTER_SOLICIT && pkt->icmp_type <= ICMPV6_REDIRECT &&
	    pkt->ip6->hop_limit != 255)
		return 0;
	const __u32 *dst = pkt->key.dst_addr;
	if (ipv6_link_local(dst) || ipv6_link_multicast(dst))
		return 1;
	/* Wider multicast scopes are for routers to forward, not for the box. */
	if ((dst[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000))
		return 0;
	__u32 in_ifindex = ctx->ingress_ifindex; /* in a register: see source_spoofed() */
	asm volatile("" : "+r"(in_ifindex));
	__u32 ifindex;
	return route_of(ctx, pkt, dst, pkt->key.src_addr, in_ifindex, &ifindex) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/*
 * The `ip spoofing` screen (Junos: decided per interface): the route back to
 * the source address must leave by the interface the packet came in on.
 * No route, an unreachable one, or the box's own address: spoofed. The
 * unspecified source and IPv6 link-local sources, which no router forwards,
 * are not looked up.
 */
static __noinline int source_spoofed(struct xdp_md *ctx, const struct packet *pkt)
{
	const __u32 *src = pkt->key.src_addr;
	if (pkt->key.family == AF_INET) {
		if (!src[0])
			return 0;
	} else if (!(src[0] | src[1] | src[2] | src[3]) || ipv6_link_local(src)) {
		return 0;
	}
	/* Read once into a register: the compiler would otherwise keep a
	 * pointer into ctx across the helper call, which the verifier refuses. */
	__u32 in_ifindex = ctx->ingress_ifindex;
	asm volatile("" : "+r"(in_ifindex));
	__u32 ifindex = 0;
	int rc = route_of(ctx, pkt, src, pkt->key.dst_addr, in_ifindex, &ifindex);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return 1;
	return ifindex != in_ifindex;
}

#endif
