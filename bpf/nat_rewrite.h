/* SPDX-License-Identifier: MIT */
/*
 * NAT's packet rewrite: a packet's addresses and ports (ICMP echo: its
 * identifier) become those of a translated tuple, every checksum updated
 * incrementally (RFC 1624): the IPv4 header's, and the transport's, whose
 * pseudo-header holds the addresses (TCP, UDP, ICMPv6; ICMPv4 covers only
 * its message). An ICMP error is rewritten outside (its addresses) and inside
 * (the packet it quotes: addresses, ports, the quoted IPv4 header's checksum
 * and the quoted transport checksum where the quote holds it), its own
 * checksum following every byte changed in its message, as Linux does
 * (nf_nat_icmp_reply_translation).
 *
 * Checksums are summed in memory order: a one's complement sum does not
 * depend on the byte order it is taken in (RFC 1071 §2(B)), so fields are
 * added as they lie in the packet, never swapped.
 */
#ifndef XDPFW_NAT_REWRITE_H
#define XDPFW_NAT_REWRITE_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

/* What one direction's packets leave with. IPv4 addresses in [0]. For ICMP
 * echo the identifier is src_port in requests, dst_port in replies, as
 * parse.h keys them. */
struct xdpfw_nat_tuple {
	__u32 src_addr[4];
	__u32 dst_addr[4];
	__be16 src_port;
	__be16 dst_port;
};

enum nat_rewrite_result {
	NAT_REWRITTEN = 0,
	NAT_MALFORMED, /* a header the rewrite needs is not in the frame */
};

/* The transport checksum's offset in its header, or -1 for none. */
static __always_inline int nat_l4_check_offset(__u8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return offsetof(struct tcphdr, check);
	case IPPROTO_UDP:
		return offsetof(struct udphdr, check);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

static __always_inline __u16 nat_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The change of a checksummed field from `from` to `to`, to add up (RFC 1624 eqn 3). */
static __always_inline __u64 nat_delta32(__u32 from, __u32 to)
{
	return (__u64)(__u32)~from + to;
}

static __always_inline __u64 nat_delta16(__u16 from, __u16 to)
{
	return (__u64)(__u16)~from + to;
}

/* Applies the summed changes `delta` to the checksum at `check`. */
static __always_inline void nat_csum_apply(__sum16 *check, __u64 delta)
{
	*check = (__sum16)~nat_fold((__u64)(__u16)~*check + delta);
}

/* Rewrites addresses at `src`/`dst` (`words` 32-bit words each) to the
 * tuple's; returns the pseudo-header's change. */
static __always_inline __u64 nat_addresses(__u32 *src, __u32 *dst, const struct xdpfw_nat_tuple *to, int words)
{
	__u64 delta = 0;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i >= words)
			break;
		delta += nat_delta32(src[i], to->src_addr[i]) + nat_delta32(dst[i], to->dst_addr[i]);
		src[i] = to->src_addr[i];
		dst[i] = to->dst_addr[i];
	}
	return delta;
}

/*
 * The transport header at `l4` (protocol `protocol`) after its addresses
 * changed by `pseudo` (0 for ICMPv4, whose checksum has no pseudo-header):
 * ports or echo identifier to the tuple's, checksum updated. `echo_reply`:
 * an ICMP echo's identifier is dst_port. Returns the change of the header's
 * bytes (for a quoting ICMP error's checksum), or NAT_MALFORMED via *bad.
 */
static __always_inline __u64 nat_transport(void *l4, void *data_end, __u8 protocol, __u64 pseudo,
					   const struct xdpfw_nat_tuple *to, int *bad)
{
	__u64 bytes = 0;
	if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) {
		__be16 *ports = l4;
		if ((void *)(ports + 2) > data_end) {
			*bad = 1;
			return 0;
		}
		__u64 change = nat_delta16(ports[0], to->src_port) + nat_delta16(ports[1], to->dst_port);
		ports[0] = to->src_port;
		ports[1] = to->dst_port;
		bytes += change;
		__sum16 *check = l4 + nat_l4_check_offset(protocol);
		/* A quote may end before the checksum: nothing to keep right then. */
		if ((void *)(check + 1) > data_end)
			return bytes;
		/* IPv4 UDP without a checksum keeps none (RFC 768). */
		if (protocol == IPPROTO_UDP && *check == 0)
			return bytes;
		__sum16 old = *check;
		nat_csum_apply(check, pseudo + change);
		if (protocol == IPPROTO_UDP && *check == 0)
			*check = (__sum16)0xffff; /* 0 means none: a computed 0 is sent as all ones */
		return bytes + nat_delta16(old, *check);
	}
	if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
		__u8 *icmp = l4;
		if ((void *)(icmp + 8) > data_end) {
			*bad = 1;
			return 0;
		}
		int reply = protocol == IPPROTO_ICMP ? icmp[0] == ICMP_ECHOREPLY : icmp[0] == ICMPV6_ECHO_REPLY;
		int echo = reply || (protocol == IPPROTO_ICMP ? icmp[0] == ICMP_ECHO : icmp[0] == ICMPV6_ECHO_REQUEST);
		__u64 change = 0;
		if (echo) {
			__be16 *id = (__be16 *)(icmp + 4);
			__be16 want = reply ? to->dst_port : to->src_port;
			change = nat_delta16(*id, want);
			*id = want;
		}
		__sum16 *check = (__sum16 *)(icmp + 2);
		__sum16 old = *check;
		nat_csum_apply(check, pseudo + change);
		return change + nat_delta16(old, *check);
	}
	return 0;
}

/* Rewrites a parsed packet (not an ICMP error) to the tuple `to`. */
static __always_inline int nat_rewrite(struct packet *pkt, void *data_end, const struct xdpfw_nat_tuple *to)
{
	__u64 pseudo;
	if (pkt->ip4) {
		struct iphdr *ip = pkt->ip4;
		if ((void *)(ip + 1) > data_end)
			return NAT_MALFORMED;
		__u64 change = nat_addresses(&ip->saddr, &ip->daddr, to, 1);
		nat_csum_apply(&ip->check, change);
		pseudo = change;
	} else if (pkt->ip6) {
		struct ipv6hdr *ip6 = pkt->ip6;
		if ((void *)(ip6 + 1) > data_end)
			return NAT_MALFORMED;
		pseudo = nat_addresses(ip6->saddr.in6_u.u6_addr32, ip6->daddr.in6_u.u6_addr32, to, 4);
	} else {
		return NAT_MALFORMED;
	}
	/* Later fragments carry no transport header: the first one's checksum covers them. */
	if (!(pkt->flags & PKT_L4))
		return NAT_REWRITTEN;
	int bad = 0;
	nat_transport(pkt->l4, data_end, pkt->key.protocol, pkt->key.protocol == IPPROTO_ICMP ? 0 : pseudo, to, &bad);
	return bad ? NAT_MALFORMED : NAT_REWRITTEN;
}

/*
 * Rewrites an ICMP error (icmp_error.h): its own addresses to `outer`, the
 * packet it quotes to `inner`. Quoted IPv6 packets with extension headers
 * get their addresses rewritten, not their ports.
 */
static __always_inline int nat_rewrite_icmp_error(struct packet *pkt, void *data_end, const struct xdpfw_nat_tuple *outer,
						  const struct xdpfw_nat_tuple *inner)
{
	__u8 *icmp = pkt->l4;
	if (!(pkt->flags & PKT_L4) || (void *)(icmp + 8) > data_end)
		return NAT_MALFORMED;
	__u64 pseudo = 0; /* the outer pseudo-header's change (ICMPv6) */
	__u64 message = 0; /* the change of the ICMP message's bytes */
	int bad = 0;
	if (pkt->ip4) {
		struct iphdr *ip = pkt->ip4;
		if ((void *)(ip + 1) > data_end)
			return NAT_MALFORMED;
		nat_csum_apply(&ip->check, nat_addresses(&ip->saddr, &ip->daddr, outer, 1));
		struct iphdr *q = (struct iphdr *)(icmp + 8);
		if ((void *)(q + 1) > data_end || q->ihl < 5)
			return NAT_MALFORMED;
		__u64 addrs = nat_addresses(&q->saddr, &q->daddr, inner, 1);
		__sum16 old = q->check;
		nat_csum_apply(&q->check, addrs);
		message += addrs + nat_delta16(old, q->check);
		/* Fragments after the first quote no transport header. */
		if (!(q->frag_off & bpf_htons(0x1fff))) {
			__u32 ihl = q->ihl * 4;
			if (ihl > 60)
				return NAT_MALFORMED;
			message += nat_transport((__u8 *)q + ihl, data_end, q->protocol, q->protocol == IPPROTO_ICMP ? 0 : addrs, inner, &bad);
		}
	} else if (pkt->ip6) {
		struct ipv6hdr *ip6 = pkt->ip6;
		if ((void *)(ip6 + 1) > data_end)
			return NAT_MALFORMED;
		pseudo = nat_addresses(ip6->saddr.in6_u.u6_addr32, ip6->daddr.in6_u.u6_addr32, outer, 4);
		struct ipv6hdr *q = (struct ipv6hdr *)(icmp + 8);
		if ((void *)(q + 1) > data_end)
			return NAT_MALFORMED;
		__u64 addrs = nat_addresses(q->saddr.in6_u.u6_addr32, q->daddr.in6_u.u6_addr32, inner, 4);
		message += addrs;
		if (q->nexthdr == IPPROTO_TCP || q->nexthdr == IPPROTO_UDP || q->nexthdr == IPPROTO_ICMPV6)
			message += nat_transport(q + 1, data_end, q->nexthdr, addrs, inner, &bad);
	} else {
		return NAT_MALFORMED;
	}
	if (bad)
		return NAT_MALFORMED;
	nat_csum_apply((__sum16 *)(icmp + 2), pseudo + message);
	return NAT_REWRITTEN;
}

#endif
