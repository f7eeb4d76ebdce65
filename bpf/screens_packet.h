/* SPDX-License-Identifier: MIT */
/*
 * Stateless screens judged from the IP header and the protocol alone:
 * block-frag, unknown-protocol, the IPv6 extension header types and their
 * number, large ICMP packets, malformed ICMPv6, and the tunnels
 * (screens_tunnel.h). Each costs a test of a profile bit unless it is on.
 */
#ifndef XDPFW_SCREENS_PACKET_H
#define XDPFW_SCREENS_PACKET_H

#include "parse.h"
#include "screens_tunnel.h"

/* The highest assigned protocol numbers Junos knows: above them, unknown-protocol. */
#define IPV4_LAST_KNOWN_PROTOCOL 137
#define IPV6_LAST_KNOWN_PROTOCOL 139
/* icmp large: ICMP packets longer than this (the IP packet, header included). */
#define ICMP_LARGE_BYTES 1024
#define IPPROTO_NO_NEXT 59
#define IPPROTO_MOBILITY 135
#define IPPROTO_HIP 139
#define IPPROTO_SHIM6 140

#define PACKET_SCREENS                                                                                   \
	(SCREEN_BIT(XDPFW_SCREEN_IP_BLOCK_FRAG) | SCREEN_BIT(XDPFW_SCREEN_IP_UNKNOWN_PROTOCOL) |             \
	 SCREEN_BIT(XDPFW_SCREEN_ICMP_LARGE) | SCREEN_BIT(XDPFW_SCREEN_ICMPV6_MALFORMED) |                   \
	 SCREEN_BIT(XDPFW_SCREEN_IPV6_EXTENSION_HEADER) | SCREEN_BIT(XDPFW_SCREEN_IPV6_EXTENSION_HEADER_LIMIT) | \
	 SCREEN_BIT(XDPFW_SCREEN_IPV6_MALFORMED_HEADER) | TUNNEL_SCREENS)

/* The extension header a walk ends on without following it (ESP, no next
 * header, mobility, HIP, shim6), as its enum xdpfw_ipv6_ext bit. */
static __always_inline __u32 ipv6_last_ext(__u8 protocol)
{
	switch (protocol) {
	case IPPROTO_ESP:
		return XDPFW_IPV6_EXT_ESP;
	case IPPROTO_NO_NEXT:
		return XDPFW_IPV6_EXT_NO_NEXT;
	case IPPROTO_MOBILITY:
		return XDPFW_IPV6_EXT_MOBILITY;
	case IPPROTO_HIP:
		return XDPFW_IPV6_EXT_HIP;
	case IPPROTO_SHIM6:
		return XDPFW_IPV6_EXT_SHIM6;
	default:
		return 0;
	}
}

static __always_inline __u32 screen_ipv6_ext(const struct packet *pkt, const struct xdpfw_screen_profile *p, __u64 on)
{
	__u32 last = ipv6_last_ext(pkt->key.protocol);
	__u32 seen = pkt->ipv6_ext | last;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IPV6_EXTENSION_HEADER) && seen & p->ipv6_ext_headers)
		return XDPFW_SCREEN_IPV6_EXTENSION_HEADER;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IPV6_EXTENSION_HEADER_LIMIT) &&
	    (__u32)pkt->ipv6_ext_count + (last ? 1 : 0) > p->ipv6_ext_limit)
		return XDPFW_SCREEN_IPV6_EXTENSION_HEADER_LIMIT;
	return XDPFW_SCREEN_NONE;
}

/*
 * ICMPv6 messages that cannot be what their type says: an echo with a code
 * other than 0 (RFC 4443 4.1, 4.2), an error message too short to carry the
 * IPv6 header of the packet it reports (RFC 4443 2.4 (c) asks for as much of
 * it as fits in the minimum MTU).
 */
static __always_inline int icmpv6_malformed(const struct packet *pkt)
{
	if (pkt->icmp_type == ICMPV6_ECHO_REQUEST || pkt->icmp_type == ICMPV6_ECHO_REPLY)
		return pkt->icmp_code != 0;
	if (pkt->icmp_type >= 128)
		return 0;
	__u32 at = pkt->l4_offset - pkt->l3_offset;
	return pkt->l3_len < at + sizeof(struct icmp6hdr) + sizeof(struct ipv6hdr);
}

static __always_inline __u32 screen_packet(const struct packet *pkt, const struct xdpfw_screen_profile *p,
					   __u64 on, void *data, void *data_end)
{
	if (!(on & PACKET_SCREENS))
		return XDPFW_SCREEN_NONE;
	__u8 proto = pkt->key.protocol;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_BLOCK_FRAG) && pkt->flags & PKT_FRAGMENT)
		return XDPFW_SCREEN_IP_BLOCK_FRAG;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_UNKNOWN_PROTOCOL) &&
	    proto > (pkt->key.family == AF_INET ? IPV4_LAST_KNOWN_PROTOCOL : IPV6_LAST_KNOWN_PROTOCOL))
		return XDPFW_SCREEN_IP_UNKNOWN_PROTOCOL;
	if (pkt->key.family == AF_INET6) {
		/* RFC 8200 4.1: a hop-by-hop options header only ever directly follows the IPv6 header. */
		const struct ipv6hdr *ip6 = screen_l3(pkt, data);
		if (on & SCREEN_BIT(XDPFW_SCREEN_IPV6_MALFORMED_HEADER) && pkt->ipv6_ext & XDPFW_IPV6_EXT_HOP_BY_HOP &&
		    (void *)(ip6 + 1) <= data_end && ip6->nexthdr != IPPROTO_HOPOPTS)
			return XDPFW_SCREEN_IPV6_MALFORMED_HEADER;
		__u32 ext = screen_ipv6_ext(pkt, p, on);
		if (ext)
			return ext;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (on & SCREEN_BIT(XDPFW_SCREEN_ICMP_LARGE) && pkt->l3_len > ICMP_LARGE_BYTES)
			return XDPFW_SCREEN_ICMP_LARGE;
		if (on & SCREEN_BIT(XDPFW_SCREEN_ICMPV6_MALFORMED) && proto == IPPROTO_ICMPV6 &&
		    pkt->flags & PKT_L4 && !(pkt->flags & PKT_FRAGMENT) && icmpv6_malformed(pkt))
			return XDPFW_SCREEN_ICMPV6_MALFORMED;
		return XDPFW_SCREEN_NONE;
	}
	return screen_tunnel(pkt, on, data, data_end);
}

#endif
