/* SPDX-License-Identifier: MIT */
/*
 * The options inside IPv6 hop-by-hop and destination options headers
 * (RFC 8200 4.2), for the screens: `ipv6-extension-header { hop-by-hop-header
 * { jumbo-payload-option; ...; user-defined-option-type L to H; }
 * destination-header { ... } user-defined-header-type L to H; }` name option
 * and header types (one bit per type number in the profile), and
 * `bad-option` drops an option list that runs past its header.
 *
 * The walk re-reads the header chain from the packet in a global function,
 * verified once whatever its callers: only profiles that name an option or
 * header type, or turn bad-option on, pay for it.
 */
#ifndef XDPFW_IPV6_OPTIONS_H
#define XDPFW_IPV6_OPTIONS_H

#include "parse.h"

#define IPV6_OPT_LISTED 1    /* an option or header type the profile names */
#define IPV6_OPT_MALFORMED 2 /* an option running past its header */
/* Options looked at per header; a header holding more counts as holding a
 * screened option when the profile screens options in it (RFC 8504 5.3 lets a node drop headers with more than 8 padding bytes;
 * each option walked costs verifier budget in xdpfw_rx, which is close to
 * its limit). */
#define IPV6_OPT_WALK 8

static __always_inline int type_listed(const __u64 *set, __u8 type)
{
	return (set[(type >> 6) & 3] >> (type & 63)) & 1;
}

__attribute__((noinline)) int xdpfw_ipv6_options(struct xdp_md *ctx, __u32 l3_offset,
						 const struct xdpfw_screen_profile *p)
{
	if (!ctx || !p)
		return 0;
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 off = l3_offset & 0xff; /* behind Ethernet and at most a few VLAN tags */
	struct ipv6hdr *ip6 = data + off;
	if ((void *)(ip6 + 1) > data_end)
		return 0;
	__u8 next = ip6->nexthdr;
	off += sizeof(*ip6);
	int found = 0;
	for (int h = 0; h < XDPFW_MAX_IPV6_EXT + 1; h++) {
		if (type_listed(p->ipv6_header_types, next))
			return found | IPV6_OPT_LISTED;
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_DSTOPTS && next != IPPROTO_ROUTING && next != IPPROTO_AH)
			return found; /* the transport, or a header whose payload is not walked (fragment, ESP, ...) */
		__u8 *ext = data + (off & 0xffff);
		if ((void *)(ext + 2) > data_end)
			return found;
		__u32 len = next == IPPROTO_AH ? ((__u32)ext[1] + 2) * 4 : ((__u32)ext[1] + 1) * 8;
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_DSTOPTS) {
			/* ipv6_dst_options follows ipv6_hbh_options: one pointer, so one verifier state. */
			const __u64 *set = p->ipv6_hbh_options + (next == IPPROTO_DSTOPTS ? 4 : 0);
			__u32 pos = 2;
			for (int i = 0; i < IPV6_OPT_WALK && pos < len; i++) {
				__u8 *o = data + ((off + pos) & 0xffff);
				if ((void *)(o + 2) > data_end) {
					/* The packet ends with the header: only a Pad1 fits its last byte. */
					if (pos + 1 == len && (void *)(o + 1) <= data_end && o[0] == 0)
						return found | type_listed(p->ipv6_header_types, ext[0]); /* nothing follows to walk */
					return found | IPV6_OPT_MALFORMED;
				}
				__u8 type = o[0];
				found |= type_listed(set, type);
				/* Pad1 is one byte; every other option has a length byte. Without a
				 * branch, so the verifier walks one state per option. */
				pos = (pos + 1 + (type != 0) * (1 + (__u32)o[1])) & 0xfff;
			}
			if (pos > len)
				found |= IPV6_OPT_MALFORMED;
			/* More options than walked: fail closed when this header has types to screen. */
			found |= (pos < len) & ((set[0] | set[1] | set[2] | set[3]) != 0);
		}
		next = ext[0];
		off = (off + len) & 0xffff;
	}
	return found;
}

#endif
