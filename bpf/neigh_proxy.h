/* SPDX-License-Identifier: MIT */
/*
 * `security nat proxy-arp` and `proxy-ndp`: the box answers ARP requests and
 * IPv6 neighbour solicitations for addresses it does not hold (NAT pool and
 * static addresses on a shared segment), on the interfaces configured, with
 * that interface's MAC address. Answered here, in XDP, and sent back out of
 * the interface they came in on (XDP_TX): the kernel's own proxy ARP answers
 * only for addresses routed out of another interface, and a pool address is
 * usually on the segment of the interface itself.
 *
 * Only well-formed requests are answered: ARP for IPv4 over Ethernet,
 * operation request, not gratuitous; NS with hop limit 255, code 0, a
 * unicast target, from an address (duplicate address detection, from ::, is
 * left to the kernel). Everything else goes on as before.
 */
#ifndef XDPFW_NEIGH_PROXY_H
#define XDPFW_NEIGH_PROXY_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpfw.h"

#define XDPFW_MAX_NEIGH_PROXIES 65536

/* An address answered for on an interface: key of xdpfw_neigh_proxies. */
struct xdpfw_neigh_proxy_key {
	__u32 ifindex;
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad[3];
	__u32 addr[4]; /* IPv4 in addr[0] */
};

/* What the answer says: the interface's own MAC address. */
struct xdpfw_neigh_proxy {
	__u8 mac[ETH_ALEN];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_NEIGH_PROXIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpfw_neigh_proxy_key);
	__type(value, struct xdpfw_neigh_proxy);
} xdpfw_neigh_proxies SEC(".maps");

/* ARP for IPv4 over Ethernet (RFC 826), as it follows the Ethernet header. */
struct neigh_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

/* A neighbour advertisement with its target link-layer address option
 * (RFC 4861 §4.4): the whole ICMPv6 message of the answer. */
struct neigh_na {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 flags;
	__u32 target[4];
	__u8 opt_type;
	__u8 opt_len; /* in units of 8 bytes */
	__u8 opt_mac[ETH_ALEN];
};

/* The IPv6 pseudo-header an ICMPv6 checksum covers (RFC 8200 §8.1). */
struct neigh_pseudo {
	__u32 src[4];
	__u32 dst[4];
	__be32 length;
	__u8 zero[3];
	__u8 next_header;
};

#define NEIGH_NS_MIN_LEN 24 /* type, code, checksum, reserved, target */
#define NEIGH_NA_SOLICITED_OVERRIDE bpf_htonl(0x60000000)

enum neigh_proxy_answer {
	NEIGH_NOT_ANSWERED = 0,
	NEIGH_ANSWERED_ARP,
	NEIGH_ANSWERED_NDP,
	NEIGH_NO_ROOM, /* the frame could not take the answer (or was resized, then not finished) */
};

static __always_inline __sum16 neigh_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/* The proxy entry an ARP request asks for, or NULL; *sender, *target its addresses. */
static __always_inline struct xdpfw_neigh_proxy *neigh_arp_request(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset,
								   __u32 *sender, __u32 *target)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (l3_offset > 64)
		return NULL;
	struct neigh_arp *arp = data + l3_offset;
	if ((void *)(arp + 1) > data_end)
		return NULL;
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != ETH_ALEN ||
	    arp->plen != 4 || arp->op != bpf_htons(1))
		return NULL;
	__builtin_memcpy(target, arp->tpa, 4);
	__builtin_memcpy(sender, arp->spa, 4);
	if (*target == *sender) /* gratuitous: an announcement, nothing to answer */
		return NULL;
	struct xdpfw_neigh_proxy_key key = { .ifindex = ifindex, .family = 2 /* AF_INET */ };
	key.addr[0] = *target;
	return bpf_map_lookup_elem(&xdpfw_neigh_proxies, &key);
}

/* The proxy entry a neighbour solicitation asks for, or NULL; key->addr its
 * target, *sender its source. */
static __always_inline struct xdpfw_neigh_proxy *neigh_ns_request(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset,
								  struct xdpfw_neigh_proxy_key *key, __u32 *sender)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (l3_offset > 64)
		return NULL;
	struct ipv6hdr *ip6 = data + l3_offset;
	struct neigh_na *ns = (void *)(ip6 + 1); /* same offsets as the NS up to its target */
	if ((void *)ns + NEIGH_NS_MIN_LEN > data_end)
		return NULL;
	/* Only a solicitation sent on this link, with nothing between its header
	 * and the message (RFC 4861 §7.1.1). */
	if (ip6->nexthdr != IPPROTO_ICMPV6 || ip6->hop_limit != 255 || ns->type != 135 || ns->code != 0 ||
	    bpf_ntohs(ip6->payload_len) < NEIGH_NS_MIN_LEN)
		return NULL;
	__builtin_memcpy(sender, &ip6->saddr, 16);
	if (!(sender[0] | sender[1] | sender[2] | sender[3]))
		return NULL; /* duplicate address detection: the kernel's */
	__builtin_memset(key, 0, sizeof(*key));
	key->ifindex = ifindex;
	key->family = 10; /* AF_INET6 */
	__builtin_memcpy(key->addr, ns->target, 16);
	if ((key->addr[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000))
		return NULL; /* a multicast target is invalid */
	return bpf_map_lookup_elem(&xdpfw_neigh_proxies, key);
}

/* Whether the request (an ARP request if `arp`, else an NS) at l3_offset asks
 * for an address proxied on `ifindex`. Reads, changes nothing: the caller's
 * packet pointers stay valid. */
static __always_inline int neigh_proxy_asked(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset, int arp)
{
	if (arp) {
		__u32 sender, target;
		return neigh_arp_request(ctx, ifindex, l3_offset, &sender, &target) != NULL;
	}
	__u32 sender6[4];
	struct xdpfw_neigh_proxy_key key;
	return neigh_ns_request(ctx, ifindex, l3_offset, &key, sender6) != NULL;
}

static __always_inline int neigh_answer_arp(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset)
{
	__u32 target, sender;
	struct xdpfw_neigh_proxy *proxy = neigh_arp_request(ctx, ifindex, l3_offset, &sender, &target);
	if (!proxy)
		return NEIGH_NOT_ANSWERED;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (l3_offset > 64)
		return NEIGH_NOT_ANSWERED;
	struct ethhdr *eth = data;
	struct neigh_arp *arp = data + l3_offset;
	if ((void *)(eth + 1) > data_end || (void *)(arp + 1) > data_end)
		return NEIGH_NOT_ANSWERED;
	arp->op = bpf_htons(2);
	__builtin_memcpy(arp->tha, arp->sha, ETH_ALEN);
	__builtin_memcpy(arp->tpa, &sender, 4);
	__builtin_memcpy(arp->sha, proxy->mac, ETH_ALEN);
	__builtin_memcpy(arp->spa, &target, 4);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, proxy->mac, ETH_ALEN);
	return NEIGH_ANSWERED_ARP;
}

static __always_inline int neigh_answer_ns(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset)
{
	struct xdpfw_neigh_proxy_key key;
	struct neigh_pseudo pseudo = {};
	struct xdpfw_neigh_proxy *proxy = neigh_ns_request(ctx, ifindex, l3_offset, &key, pseudo.dst);
	if (!proxy)
		return NEIGH_NOT_ANSWERED;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return NEIGH_NOT_ANSWERED;
	__u8 peer_mac[ETH_ALEN];
	__builtin_memcpy(peer_mac, ((struct ethhdr *)data)->h_source, ETH_ALEN);

	struct neigh_na na = {
		.type = 136,
		.flags = NEIGH_NA_SOLICITED_OVERRIDE,
		.opt_type = 2, /* target link-layer address */
		.opt_len = 1,
	};
	__builtin_memcpy(na.target, key.addr, 16);
	__builtin_memcpy(na.opt_mac, proxy->mac, ETH_ALEN);
	__builtin_memcpy(pseudo.src, key.addr, 16);
	pseudo.length = bpf_htonl(sizeof(na));
	pseudo.next_header = IPPROTO_ICMPV6;
	__s64 sum = bpf_csum_diff(NULL, 0, (__be32 *)&pseudo, sizeof(pseudo), 0);
	if (sum < 0)
		return NEIGH_NOT_ANSWERED;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&na, sizeof(na), (__wsum)sum);
	if (sum < 0)
		return NEIGH_NOT_ANSWERED;
	na.checksum = neigh_csum_fold((__u64)sum);
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, proxy->mac, ETH_ALEN);

	/* The answer is exactly the headers and the advertisement: trim or grow the frame. */
	int want = (int)(l3_offset + sizeof(struct ipv6hdr) + sizeof(na));
	int have = (int)bpf_xdp_get_buff_len(ctx);
	if (want != have && bpf_xdp_adjust_tail(ctx, want - have))
		return NEIGH_NO_ROOM;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l3_offset > 64)
		return NEIGH_NO_ROOM;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + l3_offset;
	struct neigh_na *out = (void *)(ip6 + 1);
	if ((void *)(eth + 1) > data_end || (void *)(out + 1) > data_end)
		return NEIGH_NO_ROOM;
	__builtin_memcpy(eth->h_dest, peer_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	*(__be32 *)ip6 = bpf_htonl(0x60000000); /* version 6, no traffic class or flow label */
	ip6->payload_len = bpf_htons(sizeof(na));
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 255;
	__builtin_memcpy(&ip6->saddr, pseudo.src, 16);
	__builtin_memcpy(&ip6->daddr, pseudo.dst, 16);
	__builtin_memcpy(out, &na, sizeof(na));
	return NEIGH_ANSWERED_NDP;
}

/*
 * Answers an ARP request (`arp`) or a neighbour solicitation arriving on
 * `ifindex` for an address proxied there (neigh_proxy_asked() said so): the
 * frame is rewritten into the answer, to go back out with XDP_TX. Returns
 * enum neigh_proxy_answer. A global function, verified once; it may resize
 * the frame, so the caller's packet pointers are void after it.
 */
__noinline int xdpfw_neigh_proxy_answer(struct xdp_md *ctx, __u32 ifindex, __u32 l3_offset, __u32 arp)
{
	return arp ? neigh_answer_arp(ctx, ifindex, l3_offset) : neigh_answer_ns(ctx, ifindex, l3_offset);
}

#endif
