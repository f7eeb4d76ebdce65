/* SPDX-License-Identifier: MIT */
/*
 * Bounded packet parser: Ethernet with up to two VLAN tags, IPv4 with
 * options, IPv6 with a bounded extension-header walk, TCP/UDP/ICMP/ICMPv6.
 * Fills the session key of the packet as the sender sees it.
 *
 * Multi-buffer frames (jumbo frames, programs loaded as xdp.frags): the
 * headers must be in the linear part (every multi-buffer driver puts at
 * least the first kilobyte there); the IP total length is checked against
 * the whole frame, bpf_xdp_get_buff_len(), when it is longer than the
 * linear part (l3_fits()).
 *
 * Fragments come back as PARSE_FRAGMENT with their fragment facts filled in,
 * so the screens can judge them first; a first fragment also carries its
 * transport header (PKT_L4, PKT_FRAGMENT_HEAD) when it holds all of it, and
 * is then judged like any first packet (bpf/fragments.h).
 */
#ifndef XDPFW_PARSE_H
#define XDPFW_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpfw.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define XDPFW_MAX_VLAN_TAGS 2
#define XDPFW_MAX_IPV6_EXT 6

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20

enum parse_result {
	PARSE_OK = 0,
	PARSE_NON_IP,
	PARSE_NEIGHBOR,
	PARSE_MALFORMED,
	PARSE_FRAGMENT,
};

enum packet_flags {
	PKT_L4 = 1,             /* the TCP/UDP/ICMP header was read (ports, flags, type) */
	PKT_FRAGMENT = 2,       /* an IPv4 fragment, or IPv6 with a fragment header */
	PKT_MORE_FRAGMENTS = 4, /* MF / M: not the last fragment */
	PKT_IPV6_RH0 = 8,       /* IPv6 routing header type 0 (source route) */
	PKT_FRAGMENT_HEAD = 16, /* a first fragment holding its whole transport header: judged by its ports */
};

/* Ordered by size so the struct has no holes: it lives on the stack of every
 * program, and the verifier's 512 bytes are shared by a program and its calls. */
struct packet {
	struct xdpfw_session_key key;
	struct iphdr *ip4;    /* exactly one of ip4/ip6 is set on PARSE_OK and PARSE_FRAGMENT */
	struct ipv6hdr *ip6;
	void *l4;             /* the transport header, when PKT_L4 */
	__u32 l3_len;         /* IP total length from the header */
	/* The datagram a fragment belongs to, with its addresses: the IPv4
	 * identification (network order) or the IPv6 fragment header's, and
	 * the protocol its header names (frag_proto; IPv6: the fragment
	 * header's next header, the same in every fragment). */
	__u32 frag_id;
	__u16 l3_offset;      /* from the start of the frame */
	__u16 l4_offset;      /* of the transport header, from the start of the frame */
	__be16 ethertype;     /* after the VLAN tags */
	/* Fragments: where this one's data goes in the reassembled packet, how
	 * much it carries, and the reassembled packet's bytes in front of the
	 * fragmentable part (IPv4 header; IPv6 extension headers before the
	 * fragment header), all in bytes. */
	__u16 frag_offset;
	__u16 frag_len;
	__u16 frag_unfragmentable;
	/* First fragments with PKT_FRAGMENT_HEAD: bytes of the fragmentable part
	 * up to the end of the transport header they were judged by. */
	__u16 frag_head_len;
	__u16 egress_mtu;     /* set by forwarding: the egress MTU this packet exceeds */
	__u8 vlan_tags;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 flags;           /* enum packet_flags */
	__u8 frag_proto;
	/* IPv6: the extension headers walked (enum xdpfw_ipv6_ext bits of the
	 * five the walk follows) and how many; the screens judge them. */
	__u8 ipv6_ext;
	__u8 ipv6_ext_count;
	/* Once its session is found (session_entry.h): 0 from the client, 1
	 * from the server; in what was padding. */
	__u8 dir;
};

/* linux/icmp.h drags in libc socket headers; the echo header is all we need. */
struct icmp_echo_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/* ICMP echo: the identifier plays the port; see struct xdpfw_session_key. */
static __always_inline void key_icmp_echo(struct xdpfw_session_key *key, __be16 id, int is_reply)
{
	if (is_reply) {
		key->src_port = 0;
		key->dst_port = id;
	} else {
		key->src_port = id;
		key->dst_port = 0;
	}
}

static __always_inline int parse_l4(void *l4, void *data_end, struct packet *pkt)
{
	pkt->l4 = l4;
	switch (pkt->key.protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) > data_end || th->doff < 5)
			return PARSE_MALFORMED;
		pkt->key.src_port = th->source;
		pkt->key.dst_port = th->dest;
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->flags |= PKT_L4;
		return PARSE_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > data_end)
			return PARSE_MALFORMED;
		pkt->key.src_port = uh->source;
		pkt->key.dst_port = uh->dest;
		pkt->flags |= PKT_L4;
		return PARSE_OK;
	}
	case IPPROTO_ICMP: {
		struct icmp_echo_hdr *ih = l4;
		if ((void *)(ih + 1) > data_end)
			return PARSE_MALFORMED;
		pkt->icmp_type = ih->type;
		pkt->icmp_code = ih->code;
		pkt->flags |= PKT_L4;
		if (ih->type == ICMP_ECHO || ih->type == ICMP_ECHOREPLY)
			key_icmp_echo(&pkt->key, ih->id, ih->type == ICMP_ECHOREPLY);
		return PARSE_OK;
	}
	case IPPROTO_ICMPV6: {
		struct icmp6hdr *ih = l4;
		if ((void *)(ih + 1) > data_end)
			return PARSE_MALFORMED;
		pkt->icmp_type = ih->icmp6_type;
		pkt->icmp_code = ih->icmp6_code;
		pkt->flags |= PKT_L4;
		/* Router/neighbour discovery and MLD belong to the kernel. */
		if ((ih->icmp6_type >= 130 && ih->icmp6_type <= 137) || ih->icmp6_type == 143)
			return PARSE_NEIGHBOR;
		if (ih->icmp6_type == ICMPV6_ECHO_REQUEST || ih->icmp6_type == ICMPV6_ECHO_REPLY)
			key_icmp_echo(&pkt->key, ih->icmp6_dataun.u_echo.identifier,
				      ih->icmp6_type == ICMPV6_ECHO_REPLY);
		return PARSE_OK;
	}
	default:
		return PARSE_OK; /* other protocols: addresses only */
	}
}

/* Bytes of the transport header a first fragment must hold whole (RFC 1858,
 * RFC 7112); 0 for protocols whose header we do not read. */
static __always_inline __u32 l4_header_len(__u8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return sizeof(struct tcphdr);
	case IPPROTO_UDP:
		return sizeof(struct udphdr);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return sizeof(struct icmp_echo_hdr);
	default:
		return 0;
	}
}

/* A fragment: the first one also gets its transport header read, when it
 * holds all of it (l4_at: where it starts, from the IP header). Reassembly
 * is not ours to do, so a fragment never parses as more than PARSE_FRAGMENT. */
static __always_inline int parse_fragment(void *l4, __u32 l4_at, void *data_end, struct packet *pkt)
{
	__u32 head = l4_at + l4_header_len(pkt->key.protocol);
	if (pkt->frag_offset == 0 && head <= pkt->l3_len &&
	    parse_l4(l4, data_end, pkt) != PARSE_MALFORMED) {
		/* Where the fragmentable part starts: past the IPv4 header, or
		 * past the IPv6 fragment header. */
		__u32 start = pkt->ip4 ? pkt->frag_unfragmentable
				       : sizeof(struct ipv6hdr) + pkt->frag_unfragmentable + 8;
		pkt->flags |= PKT_FRAGMENT_HEAD;
		pkt->frag_head_len = head - start;
	}
	return PARSE_FRAGMENT;
}

/* The whole frame: the linear part and, on a multi-buffer frame, its
 * fragments (equal to data_end - data for a single buffer). A helper call,
 * which costs as much as the rest of a parse: made only where needed. */
static __always_inline __u32 frame_len(struct xdp_md *ctx)
{
	return (__u32)bpf_xdp_get_buff_len(ctx);
}

/* Whether the IP packet's tot bytes from l3 (at l3_offset in the frame) are
 * all in the frame. Nearly always they are in the linear part, which needs
 * no helper call; the whole frame is asked for only when they are not. */
static __always_inline int l3_fits(struct xdp_md *ctx, void *l3, void *data_end, __u32 l3_offset, __u32 tot)
{
	if (tot <= (__u32)(data_end - l3))
		return 1;
	return tot <= frame_len(ctx) - l3_offset;
}

static __always_inline int parse_ipv4(struct xdp_md *ctx, void *l3, void *data_end, struct packet *pkt)
{
	struct iphdr *iph = l3;
	if ((void *)(iph + 1) > data_end)
		return PARSE_MALFORMED;
	__u32 hlen = iph->ihl * 4;
	__u32 tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen)
		return PARSE_MALFORMED;
	if (l3 + hlen > data_end || !l3_fits(ctx, l3, data_end, pkt->l3_offset, tot))
		return PARSE_MALFORMED;
	pkt->ip4 = iph;
	pkt->l3_len = tot;
	pkt->key.family = AF_INET;
	pkt->key.protocol = iph->protocol;
	pkt->key.src_addr[0] = iph->saddr;
	pkt->key.dst_addr[0] = iph->daddr;
	__u16 frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x3fff) { /* MF set or offset non-zero */
		pkt->flags |= PKT_FRAGMENT | (frag & 0x2000 ? PKT_MORE_FRAGMENTS : 0);
		pkt->frag_offset = (frag & 0x1fff) * 8;
		pkt->frag_len = tot - hlen;
		pkt->frag_unfragmentable = hlen;
		pkt->frag_id = iph->id;
		pkt->frag_proto = iph->protocol;
		return parse_fragment(l3 + hlen, hlen, data_end, pkt);
	}
	pkt->l4_offset = pkt->l3_offset + hlen;
	return parse_l4(l3 + hlen, data_end, pkt);
}

static __always_inline int ipv6_is_ext(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	       next == IPPROTO_FRAGMENT || next == IPPROTO_AH;
}

/* The enum xdpfw_ipv6_ext bit of one of the headers ipv6_is_ext() walks. */
static __always_inline __u8 ipv6_ext_bit(__u8 next)
{
	switch (next) {
	case IPPROTO_HOPOPTS:
		return XDPFW_IPV6_EXT_HOP_BY_HOP;
	case IPPROTO_ROUTING:
		return XDPFW_IPV6_EXT_ROUTING;
	case IPPROTO_FRAGMENT:
		return XDPFW_IPV6_EXT_FRAGMENT;
	case IPPROTO_DSTOPTS:
		return XDPFW_IPV6_EXT_DESTINATION;
	default:
		return XDPFW_IPV6_EXT_AH;
	}
}

/* What a header chain we cannot follow is: once a fragment header was seen,
 * still a fragment (dropped as one, as before the screens existed). */
static __always_inline int ipv6_broken(const struct packet *pkt)
{
	return pkt->flags & PKT_FRAGMENT ? PARSE_FRAGMENT : PARSE_MALFORMED;
}

static __always_inline int parse_ipv6(struct xdp_md *ctx, void *l3, void *data_end, struct packet *pkt)
{
	struct ipv6hdr *ip6 = l3;
	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	__u32 tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (!l3_fits(ctx, l3, data_end, pkt->l3_offset, tot))
		return PARSE_MALFORMED;
	pkt->ip6 = ip6;
	pkt->l3_len = tot;
	pkt->key.family = AF_INET6;
	__builtin_memcpy(pkt->key.src_addr, &ip6->saddr, 16);
	__builtin_memcpy(pkt->key.dst_addr, &ip6->daddr, 16);

	__u8 next = ip6->nexthdr;
	void *cursor = ip6 + 1;
#pragma unroll
	for (int i = 0; i < XDPFW_MAX_IPV6_EXT; i++) {
		if (!ipv6_is_ext(next))
			break;
		__u8 *ext = cursor;
		if ((void *)(ext + 8) > data_end)
			return ipv6_broken(pkt);
		__u32 len = ((__u32)ext[1] + 1) * 8;
		pkt->ipv6_ext |= ipv6_ext_bit(next);
		pkt->ipv6_ext_count++;
		if (next == IPPROTO_FRAGMENT) {
			__u32 unfragmentable = (void *)ext - (void *)(ip6 + 1);
			if (pkt->flags & PKT_FRAGMENT || sizeof(*ip6) + unfragmentable + 8 > tot)
				return ipv6_broken(pkt);
			__u16 off_m = bpf_ntohs(*(__be16 *)(ext + 2));
			pkt->flags |= PKT_FRAGMENT | (off_m & 1 ? PKT_MORE_FRAGMENTS : 0);
			pkt->frag_offset = off_m & 0xfff8;
			pkt->frag_unfragmentable = unfragmentable;
			pkt->frag_len = tot - sizeof(*ip6) - unfragmentable - 8;
			pkt->frag_id = *(__u32 *)(ext + 4);
			pkt->frag_proto = ext[0];
			if (pkt->frag_offset) {
				/* Later fragments carry no transport header: the
				 * protocol is what the fragment header says follows. */
				pkt->key.protocol = ext[0];
				return PARSE_FRAGMENT;
			}
			len = 8; /* its second byte is reserved, not a length */
		} else if (next == IPPROTO_ROUTING && ext[2] == 0) {
			pkt->flags |= PKT_IPV6_RH0;
		} else if (next == IPPROTO_AH) {
			len = ((__u32)ext[1] + 2) * 4;
		}
		next = ext[0];
		cursor += len;
	}
	/* Still an extension header after the bounded walk: refuse it. */
	if (ipv6_is_ext(next) || cursor > data_end)
		return ipv6_broken(pkt);
	pkt->key.protocol = next;
	if (pkt->flags & PKT_FRAGMENT)
		return parse_fragment(cursor, cursor - l3, data_end, pkt);
	pkt->l4_offset = pkt->l3_offset + (cursor - l3);
	return parse_l4(cursor, data_end, pkt);
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct packet *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	__u16 proto = eth->h_proto;
	void *cursor = eth + 1;
#pragma unroll
	for (int i = 0; i < XDPFW_MAX_VLAN_TAGS; i++) {
		if (!proto_is_vlan(proto))
			break;
		struct vlan_tag *tag = cursor;
		if ((void *)(tag + 1) > data_end)
			return PARSE_MALFORMED;
		proto = tag->proto;
		cursor = tag + 1;
		pkt->vlan_tags++;
	}
	pkt->l3_offset = cursor - data;
	pkt->ethertype = proto;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(ctx, cursor, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(ctx, cursor, data_end, pkt);
	if (proto_is_vlan(proto))
		return PARSE_MALFORMED; /* more tags than we walk */
	return PARSE_NON_IP;
}

#endif
