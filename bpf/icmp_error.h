/* SPDX-License-Identifier: MIT */
/*
 * ICMP and ICMPv6 errors (destination unreachable, packet too big, time
 * exceeded, parameter problem, ...) belong to the session of the packet they
 * quote. The quoted IP header and the first 8 bytes of its transport header
 * give that packet's tuple; reversed, it is the key of the session entry for
 * packets travelling back to the quoted packet's source, which is where the
 * error goes. An error never opens a session. The quote is the packet as it
 * left the firewall toward the error's sender, so its reverse is that side's
 * entry key even once sessions translate addresses.
 *
 * As in Linux conntrack (nf_conntrack_inet_error), the error's destination
 * must be the quoted packet's source: otherwise any host could relate a
 * packet for a third party to somebody else's session.
 *
 * Also here: whether a packet too big for its egress link earns an ICMP
 * fragmentation-needed / packet-too-big (RFC 1191, RFC 8201).
 */
#ifndef XDPFW_ICMP_ERROR_H
#define XDPFW_ICMP_ERROR_H

#include "parse.h"
#include "events.h"

/* Extension headers walked inside a quoted IPv6 packet. */
#define XDPFW_MAX_QUOTED_IPV6_EXT 4

/* The minimum IPv6 MTU, and as much of a packet as the slow path needs to
 * quote it in an ICMP error (RFC 1812 4.3.2.3 quotes up to 576 bytes of IP,
 * RFC 4443 2.4(c) up to 1280). */
#define XDPFW_QUOTE_MAX 1280

enum icmp_error_result {
	ICMP_ERROR_KEY = 0,        /* the key of the session entry the error travels along */
	ICMP_ERROR_NO_TUPLE,       /* the quote names no flow a session could have (e.g. a later fragment) */
	ICMP_ERROR_MALFORMED,      /* the quote is shorter than an IP header and 8 bytes */
	ICMP_ERROR_INCONSISTENT,   /* the error is not addressed to the quoted packet's source */
};

/* Error types, as conntrack counts them (icmp_is_err; ICMPv6 types below 128). */
static __always_inline int icmp_is_error(const struct packet *pkt)
{
	if (!(pkt->flags & PKT_L4))
		return 0;
	if (pkt->key.protocol == IPPROTO_ICMP && pkt->ip4)
		return pkt->icmp_type == 3 || pkt->icmp_type == 4 || pkt->icmp_type == 5 ||
		       pkt->icmp_type == 11 || pkt->icmp_type == 12;
	if (pkt->key.protocol == IPPROTO_ICMPV6 && pkt->ip6)
		return pkt->icmp_type < 128;
	return 0;
}

/* The quoted transport header's ports (or echo identifier) into key, as the
 * quoted packet's sender keyed it; the caller reverses. */
static __always_inline int quoted_ports(struct xdpfw_session_key *key, __u8 *l4, void *data_end)
{
	if ((void *)(l4 + 8) > data_end)
		return ICMP_ERROR_MALFORMED;
	switch (key->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		key->src_port = *(__be16 *)l4;
		key->dst_port = *(__be16 *)(l4 + 2);
		return ICMP_ERROR_KEY;
	case IPPROTO_ICMP:
		/* Only echo has sessions; an error about an error is nobody's. */
		if (l4[0] != ICMP_ECHO && l4[0] != ICMP_ECHOREPLY)
			return ICMP_ERROR_NO_TUPLE;
		key_icmp_echo(key, *(__be16 *)(l4 + 4), l4[0] == ICMP_ECHOREPLY);
		return ICMP_ERROR_KEY;
	case IPPROTO_ICMPV6:
		if (l4[0] != ICMPV6_ECHO_REQUEST && l4[0] != ICMPV6_ECHO_REPLY)
			return ICMP_ERROR_NO_TUPLE;
		key_icmp_echo(key, *(__be16 *)(l4 + 4), l4[0] == ICMPV6_ECHO_REPLY);
		return ICMP_ERROR_KEY;
	default:
		return ICMP_ERROR_KEY; /* addresses only, as parse_l4 keys them */
	}
}

static __always_inline int quoted_ipv4(struct xdpfw_session_key *key, __u8 *quote, void *data_end)
{
	struct iphdr *iph = (void *)quote;
	if ((void *)(iph + 1) > data_end)
		return ICMP_ERROR_MALFORMED;
	__u32 hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph))
		return ICMP_ERROR_MALFORMED;
	if (bpf_ntohs(iph->frag_off) & 0x1fff)
		return ICMP_ERROR_NO_TUPLE; /* a later fragment carries no ports */
	key->family = AF_INET;
	key->protocol = iph->protocol;
	key->src_addr[0] = iph->saddr;
	key->dst_addr[0] = iph->daddr;
	return quoted_ports(key, quote + hlen, data_end);
}

static __always_inline int quoted_ipv6(struct xdpfw_session_key *key, __u8 *quote, void *data_end)
{
	struct ipv6hdr *ip6 = (void *)quote;
	if ((void *)(ip6 + 1) > data_end)
		return ICMP_ERROR_MALFORMED;
	if (ip6->version != 6)
		return ICMP_ERROR_MALFORMED;
	key->family = AF_INET6;
	__builtin_memcpy(key->src_addr, &ip6->saddr, 16);
	__builtin_memcpy(key->dst_addr, &ip6->daddr, 16);
	__u8 next = ip6->nexthdr;
	__u8 *cursor = (void *)(ip6 + 1);
#pragma unroll
	for (int i = 0; i < XDPFW_MAX_QUOTED_IPV6_EXT; i++) {
		if (!ipv6_is_ext(next))
			break;
		if ((void *)(cursor + 8) > data_end)
			return ICMP_ERROR_MALFORMED;
		__u32 len = ((__u32)cursor[1] + 1) * 8;
		if (next == IPPROTO_FRAGMENT) {
			if (bpf_ntohs(*(__be16 *)(cursor + 2)) & 0xfff8)
				return ICMP_ERROR_NO_TUPLE;
			len = 8;
		} else if (next == IPPROTO_AH) {
			len = ((__u32)cursor[1] + 2) * 4;
		}
		next = cursor[0];
		cursor += len;
	}
	if (ipv6_is_ext(next))
		return ICMP_ERROR_NO_TUPLE; /* a chain longer than we follow */
	key->protocol = next;
	return quoted_ports(key, cursor, data_end);
}

/*
 * For an ICMP error (icmp_is_error), the key of the session entry it travels
 * along: the quoted packet's tuple reversed. Checks that the error is
 * addressed to the quoted packet's source.
 */
static __always_inline int icmp_error_key(const struct packet *pkt, void *data_end,
					  struct xdpfw_session_key *key)
{
	struct xdpfw_session_key quoted = {};
	/* The quote follows the 8-byte ICMP / ICMPv6 header. */
	__u8 *quote = (__u8 *)pkt->l4 + 8;
	int rc = pkt->ip4 ? quoted_ipv4(&quoted, quote, data_end)
			  : quoted_ipv6(&quoted, quote, data_end);
	if (rc != ICMP_ERROR_KEY)
		return rc;
	if (quoted.family != pkt->key.family)
		return ICMP_ERROR_MALFORMED;
	if (pkt->ip4) {
		if (quoted.src_addr[0] != pkt->key.dst_addr[0])
			return ICMP_ERROR_INCONSISTENT;
	} else if (quoted.src_addr[0] != pkt->key.dst_addr[0] || quoted.src_addr[1] != pkt->key.dst_addr[1] ||
		   quoted.src_addr[2] != pkt->key.dst_addr[2] || quoted.src_addr[3] != pkt->key.dst_addr[3]) {
		return ICMP_ERROR_INCONSISTENT;
	}
	__builtin_memset(key, 0, sizeof(*key));
	key->family = quoted.family;
	key->protocol = quoted.protocol;
	key->src_port = quoted.dst_port;
	key->dst_port = quoted.src_port;
	__builtin_memcpy(key->src_addr, quoted.dst_addr, 16);
	__builtin_memcpy(key->dst_addr, quoted.src_addr, 16);
	return ICMP_ERROR_KEY;
}

/* A packet too big for its egress link gets an ICMP error instead of being
 * forwarded when it may not be fragmented on the way: IPv6 always, IPv4 with
 * DF set. An ICMP error itself never gets one (RFC 1122 3.2.2). */
static __always_inline int icmp_too_big_due(const struct packet *pkt)
{
	if (icmp_is_error(pkt))
		return 0;
	if (pkt->ip6)
		return 1;
	return pkt->ip4 && (bpf_ntohs(pkt->ip4->frag_off) & 0x4000);
}

/* Packets too big for their egress link sent up this second, as a window
 * word (events.h): the slow path is not to be flooded with them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpfw_too_big_budget SEC(".maps");

/* Readies a packet too big for its egress link for the slow path, which
 * answers it: within XDPFW_TOO_BIG_PER_SECOND, and cut to what the answer
 * quotes (a jumbo frame then fits the AF_XDP frame). Returns 0, or the
 * counter of the drop. Invalidates the packet pointers in *pkt. */
static __always_inline __u32 too_big_send_up(struct xdp_md *ctx, const struct packet *pkt)
{
	__u32 zero = 0;
	__u64 *budget = bpf_map_lookup_elem(&xdpfw_too_big_budget, &zero);
	if (!budget || window_count(budget, this_second(), XDPFW_TOO_BIG_PER_SECOND) > XDPFW_TOO_BIG_PER_SECOND)
		return XDPFW_CNT_DROP_MTU_EXCEEDED_OVER_BUDGET;
	int excess = (int)bpf_xdp_get_buff_len(ctx) - (int)(pkt->l3_offset + XDPFW_QUOTE_MAX);
	if (excess > 0 && bpf_xdp_adjust_tail(ctx, -excess))
		return XDPFW_CNT_DROP_TOO_BIG;
	return 0;
}

#endif
