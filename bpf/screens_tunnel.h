/* SPDX-License-Identifier: MIT */
/*
 * `ip tunnel` screens: IP carried in IP (IPIP, IPv6 in IPv4 and the
 * transition mechanisms built on it), in GRE, or in UDP (Teredo), judged
 * on the outer packet, and the inner header checked when bad-inner-header
 * is on. Only whole packets: a fragment's inner header is not all there.
 */
#ifndef XDPFW_SCREENS_TUNNEL_H
#define XDPFW_SCREENS_TUNNEL_H

#include "parse.h"

#ifndef IPPROTO_GRE
#define IPPROTO_GRE 47
#endif
#define TEREDO_PORT 3544
#define GRE_FLAG_CSUM 0x8000
#define GRE_FLAG_KEY 0x2000
#define GRE_FLAG_SEQ 0x1000
#define GRE_VERSION 0x0007

#define TUNNEL_SCREENS                                                                                   \
	(SCREEN_BIT(XDPFW_SCREEN_TUNNEL_GRE_4IN4) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_GRE_4IN6) |               \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_GRE_6IN4) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_GRE_6IN6) |               \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_4IN4) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_4IN6) |             \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6IN4) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6IN6) |             \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6OVER4) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6TO4RELAY) |      \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_ISATAP) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_DSLITE) |         \
	 SCREEN_BIT(XDPFW_SCREEN_TUNNEL_TEREDO) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_BAD_INNER_HEADER))

/* The inner IP header's version (4 or 6) is the one the outer header
 * announced, and its length fits in what the outer packet carries after it
 * (`room` bytes). A header past the linear part is not judged. */
/*
 * The screens run in a global function (xdpfw_run_screens), where struct
 * packet's header pointers are plain numbers to the verifier: headers are
 * found again from the offsets the parse recorded, and bounds-checked where
 * read. The mask keeps the verifier's range small; no header starts as far.
 */
#define SCREEN_OFFSET_MASK 0x3ff
static __always_inline void *screen_l3(const struct packet *pkt, void *data)
{
	return data + (pkt->l3_offset & SCREEN_OFFSET_MASK);
}

static __always_inline int inner_header_bad(const __u8 *inner, __u32 version, __u32 room, void *data_end)
{
	if (version == 4) {
		const struct iphdr *ip = (const void *)inner;
		if (room < sizeof(*ip))
			return 1;
		if ((void *)(ip + 1) > data_end)
			return 0;
		__u32 tot = bpf_ntohs(ip->tot_len);
		return ip->version != 4 || ip->ihl < 5 || tot < ip->ihl * 4u || tot > room;
	}
	const struct ipv6hdr *ip6 = (const void *)inner;
	if (room < sizeof(*ip6))
		return 1;
	if ((void *)(ip6 + 1) > data_end)
		return 0;
	return ip6->version != 6 || sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > room;
}

/* 6in4 flavours, by the inner IPv6 addresses (or the outer destination):
 * ISATAP interface identifiers (::0:5efe:a.b.c.d, ::200:5efe:a.b.c.d),
 * 6to4 addresses (2002::/16), 6over4's IPv4 multicast (RFC 2529). */
static __always_inline __u32 six_in_four(const struct packet *pkt, __u64 on, const __u8 *inner, void *data_end)
{
	const struct ipv6hdr *ip6 = (const void *)inner;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6OVER4) && pkt->key.family == AF_INET &&
	    (bpf_ntohl(pkt->key.dst_addr[0]) & 0xffff0000) == 0xefc00000) /* 239.192.0.0/16 */
		return XDPFW_SCREEN_TUNNEL_IPIP_6OVER4;
	if (!(on & (SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_ISATAP) | SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6TO4RELAY))) ||
	    (void *)(ip6 + 1) > data_end)
		return XDPFW_SCREEN_NONE;
	__u32 iid = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[2]);
	if (on & SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_ISATAP) && (iid & 0xfdffffff) == 0x00005efe)
		return XDPFW_SCREEN_TUNNEL_IPIP_ISATAP;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_6TO4RELAY) &&
	    (bpf_ntohs(ip6->saddr.in6_u.u6_addr16[0]) == 0x2002 || bpf_ntohs(ip6->daddr.in6_u.u6_addr16[0]) == 0x2002))
		return XDPFW_SCREEN_TUNNEL_IPIP_6TO4RELAY;
	return XDPFW_SCREEN_NONE;
}

static __always_inline __u32 screen_tunnel(const struct packet *pkt, __u64 on, void *data, void *data_end)
{
	/* A whole packet's transport header: at l4_offset (parse.h sets it for every one). */
	if (!(on & TUNNEL_SCREENS) || pkt->flags & PKT_FRAGMENT || !pkt->l4_offset)
		return XDPFW_SCREEN_NONE;
	const __u8 *l4 = data + (pkt->l4_offset & SCREEN_OFFSET_MASK);
	__u32 skip = 0; /* bytes from the transport header to the inner IP header */
	__u32 version;
	int outer6 = pkt->key.family == AF_INET6;
	__u32 screen;
	switch (pkt->key.protocol) {
	case IPPROTO_IPIP:
		version = 4;
		screen = outer6 ? XDPFW_SCREEN_TUNNEL_IPIP_4IN6 : XDPFW_SCREEN_TUNNEL_IPIP_4IN4;
		break;
	case IPPROTO_IPV6:
		version = 6;
		screen = outer6 ? XDPFW_SCREEN_TUNNEL_IPIP_6IN6 : XDPFW_SCREEN_TUNNEL_IPIP_6IN4;
		break;
	case IPPROTO_GRE: {
		if ((void *)(l4 + 4) > data_end)
			return XDPFW_SCREEN_NONE;
		__u16 flags = (__u16)l4[0] << 8 | l4[1];
		__u16 type = (__u16)l4[2] << 8 | l4[3];
		if (flags & GRE_VERSION) /* version 1 is PPTP's enhanced GRE: PPP, not IP */
			return XDPFW_SCREEN_NONE;
		if (type == ETH_P_IP)
			version = 4;
		else if (type == ETH_P_IPV6)
			version = 6;
		else
			return XDPFW_SCREEN_NONE;
		skip = 4 + (flags & GRE_FLAG_CSUM ? 4 : 0) + (flags & GRE_FLAG_KEY ? 4 : 0) + (flags & GRE_FLAG_SEQ ? 4 : 0);
		screen = version == 4 ? (outer6 ? XDPFW_SCREEN_TUNNEL_GRE_4IN6 : XDPFW_SCREEN_TUNNEL_GRE_4IN4)
				      : (outer6 ? XDPFW_SCREEN_TUNNEL_GRE_6IN6 : XDPFW_SCREEN_TUNNEL_GRE_6IN4);
		break;
	}
	case IPPROTO_UDP: {
		if (pkt->key.dst_port != bpf_htons(TEREDO_PORT) && pkt->key.src_port != bpf_htons(TEREDO_PORT))
			return XDPFW_SCREEN_NONE;
		skip = sizeof(struct udphdr);
		/* IPv6 right after the UDP header (bubbles and indicators are not IPv6 in UDP). */
		if ((void *)(l4 + sizeof(struct udphdr) + 1) > data_end || l4[sizeof(struct udphdr)] >> 4 != 6)
			return XDPFW_SCREEN_NONE;
		version = 6;
		screen = XDPFW_SCREEN_TUNNEL_TEREDO;
		break;
	}
	default:
		return XDPFW_SCREEN_NONE;
	}
	const __u8 *inner = l4 + skip;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TUNNEL_BAD_INNER_HEADER)) {
		__u32 at = pkt->l4_offset - pkt->l3_offset + skip;
		__u32 room = at < pkt->l3_len ? pkt->l3_len - at : 0;
		if (inner_header_bad(inner, version, room, data_end))
			return XDPFW_SCREEN_TUNNEL_BAD_INNER_HEADER;
	}
	if (screen == XDPFW_SCREEN_TUNNEL_IPIP_6IN4) {
		__u32 flavour = six_in_four(pkt, on, inner, data_end);
		if (flavour)
			return flavour;
	}
	if (screen == XDPFW_SCREEN_TUNNEL_IPIP_4IN6 && on & SCREEN_BIT(XDPFW_SCREEN_TUNNEL_IPIP_DSLITE))
		return XDPFW_SCREEN_TUNNEL_IPIP_DSLITE;
	return on & SCREEN_BIT(screen) ? screen : XDPFW_SCREEN_NONE;
}

#endif
