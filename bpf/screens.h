/* SPDX-License-Identifier: MIT */
/*
 * Screens: the `security screen ids-option` profile of the ingress zone,
 * judged on every packet before the session lookup.
 *
 * Stateless checks look at one packet. Rate checks count in maps every CPU
 * shares, so a configured rate means the same whatever the number of CPUs
 * or queues:
 *   floods     packets in one-second windows per destination address (and
 *              port), or per source address, each CPU taking its counts in
 *              leases from the shared one (screen_lease.h);
 *   port scan, IP sweep
 *              distinct destination ports / addresses one source reaches in
 *              windows of the configured microseconds.
 * Windows are aligned on CLOCK_MONOTONIC. Seconds are read from the coarse
 * clock (a tick late at most, and much cheaper on every packet); the
 * microsecond windows from the precise one.
 * A window's index and count share one 64-bit word ("window word"), so
 * opening a window and counting in it are each one atomic instruction.
 */
#ifndef XDPFW_SCREENS_H
#define XDPFW_SCREENS_H

#include "parse.h"
#include "events.h"

#define SCREEN_BIT(s) (1ull << (s))

#include "screens_packet.h"
#include "ipv6_options.h"
#include "screen_lease.h"

/* The profile's 64-bit mask and the counter stride need every id below 64. */
_Static_assert(XDPFW_SCREEN_IPV6_MALFORMED_HEADER < XDPFW_SCREEN_SLOTS, "enum xdpfw_screen outgrew XDPFW_SCREEN_SLOTS");
_Static_assert(XDPFW_SCREEN_SLOTS <= 64, "the profile's screens mask is 64 bits");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_ZONES);
	__type(key, __u32); /* zone id */
	__type(value, struct xdpfw_screen_profile);
} xdpfw_screen_profiles SEC(".maps");

#include "syn_ack_ack_proxy.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPFW_MAX_ZONES * XDPFW_SCREEN_SLOTS);
	__type(key, __u32); /* zone id * XDPFW_SCREEN_SLOTS + screen */
	__type(value, struct xdpfw_screen_counter);
} xdpfw_screen_stats SEC(".maps");

/* Events written this second per (zone, screen), as a window word. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_ZONES * XDPFW_SCREEN_SLOTS);
	__type(key, __u32); /* as xdpfw_screen_stats */
	__type(value, __u64);
} xdpfw_screen_budget SEC(".maps");

/* One item a source reached, for the distinct counts: a destination port
 * (port scan) or address (IP sweep). */
struct screen_seen_key {
	__u16 zone;
	__u8 screen;
	__u8 family;
	__u16 port;
	__u16 pad;
	__u32 src[4];
	__u32 dst[4];
};

/* The distinct items of port scans and sweeps; LRU as xdpfw_screen_rates
 * (screen_lease.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, SCREEN_STATE_ENTRIES);
	__type(key, struct screen_seen_key);
	__type(value, __u64); /* the last window the item was reached in */
} xdpfw_screen_seen SEC(".maps");

/* syn-flood white-lists of every zone (lib/screens/apply.ts writes them). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct xdpfw_screen_allow_key);
	__type(value, __u8);
} xdpfw_screen_allow SEC(".maps");

/* A SYN the zone's syn-flood white-list exempts: its source or destination listed. */
static __always_inline int syn_flood_exempt(const struct packet *pkt, __u16 zone)
{
	struct xdpfw_screen_allow_key k = {
		.prefixlen = 32 + 128,
		.zone = zone,
		.family = pkt->key.family,
		.direction = XDPFW_SCREEN_ALLOW_SOURCE,
	};
	__builtin_memcpy(k.addr, pkt->key.src_addr, sizeof(k.addr));
	if (bpf_map_lookup_elem(&xdpfw_screen_allow, &k))
		return 1;
	k.direction = XDPFW_SCREEN_ALLOW_DESTINATION;
	__builtin_memcpy(k.addr, pkt->key.dst_addr, sizeof(k.addr));
	return bpf_map_lookup_elem(&xdpfw_screen_allow, &k) != NULL;
}

/* A UDP packet the zone's udp flood white-list exempts: its source or destination listed. */
static __always_inline int udp_flood_exempt(const struct packet *pkt, __u16 zone)
{
	struct xdpfw_screen_allow_key k = {
		.prefixlen = 32 + 128,
		.zone = zone,
		.family = pkt->key.family,
		.direction = XDPFW_SCREEN_ALLOW_UDP_FLOOD,
	};
	__builtin_memcpy(k.addr, pkt->key.src_addr, sizeof(k.addr));
	if (bpf_map_lookup_elem(&xdpfw_screen_allow, &k))
		return 1;
	__builtin_memcpy(k.addr, pkt->key.dst_addr, sizeof(k.addr));
	return bpf_map_lookup_elem(&xdpfw_screen_allow, &k) != NULL;
}

/* The screen a packet trips; log is 0 where Junos counts without logging
 * (SYN flood under the alarm threshold). */
struct screen_hit {
	__u32 screen; /* enum xdpfw_screen; XDPFW_SCREEN_NONE: nothing tripped */
	__u32 log;
};

/* Whether k's item is new in window `win`; exactly one CPU is told so. */
static __always_inline int first_in_window(struct screen_seen_key *k, __u32 win)
{
	__u64 *last = bpf_map_lookup_elem(&xdpfw_screen_seen, k);
	if (!last) {
		__u64 v = win;
		return !bpf_map_update_elem(&xdpfw_screen_seen, k, &v, BPF_NOEXIST);
	}
	__u64 old = *(volatile __u64 *)last;
	return old != win && __sync_val_compare_and_swap(last, old, win) == old;
}

/*
 * Port scan and IP sweep: how many distinct items k's source reached in the
 * current window before this packet (its own item is counted if new).
 * Junos lets XDPFW_SCAN_ITEMS through and rejects the source for the rest
 * of the window from then on.
 */
static __always_inline __u32 scan_count(struct screen_seen_key *k, __u32 window_us)
{
	__u32 win = bpf_ktime_get_ns() / ((__u64)window_us * 1000);
	struct screen_rate_key rk = { .zone = k->zone, .screen = k->screen, .family = k->family };
	__builtin_memcpy(rk.addr, k->src, sizeof(rk.addr));
	__u64 *w = bpf_map_lookup_elem(&xdpfw_screen_rates, &rk);
	__u64 word = w ? *(volatile __u64 *)w : 0;
	__u32 before = (__u32)(word >> 32) == win ? (__u32)word : 0;
	if (before >= XDPFW_SCAN_ITEMS || !first_in_window(k, win))
		return before;
	return shared_count(&rk, win, XDPFW_SCAN_ITEMS) - 1;
}

/* IPv4 options present, as bits of their option number (type & 0x1f, RFC
 * 791), and OPT_MALFORMED when the list is malformed (an option shorter than
 * its type and length, or running past the header), which ends the walk:
 * Junos's bad-option screen. */
#define OPT_BIT(type) (1ull << IPOPT_NUMBER(type))
#define OPT_MALFORMED (1ull << 32)
#define IPOPT_MAX_LEN 40

static __always_inline __u64 ipv4_options(const struct iphdr *iph, void *data_end)
{
	__u32 len = iph->ihl * 4 - sizeof(*iph);
	__u8 *opt = (void *)(iph + 1);
	__u64 seen = 0;
	__u32 skip = 0; /* bytes left of the option being stepped over */
	/* Byte by byte rather than option by option: the verifier then sees one
	 * position per iteration instead of every possible chain of lengths. */
	for (__u32 i = 0; i < IPOPT_MAX_LEN && i < len; i++) {
		if (skip) {
			skip--;
			continue;
		}
		__u8 *p = opt + i;
		if ((void *)(p + 2) > data_end || p[0] == IPOPT_END)
			break;
		if (p[0] == IPOPT_NOOP)
			continue;
		if (p[1] < 2 || i + p[1] > len) {
			seen |= OPT_MALFORMED;
			break;
		}
		seen |= OPT_BIT(p[0]);
		skip = p[1] - 1;
	}
	return seen;
}

#define IP_OPTION_SCREENS                                                                            \
	(SCREEN_BIT(XDPFW_SCREEN_IP_SOURCE_ROUTE) | SCREEN_BIT(XDPFW_SCREEN_IP_LOOSE_SOURCE_ROUTE) |     \
	 SCREEN_BIT(XDPFW_SCREEN_IP_STRICT_SOURCE_ROUTE) | SCREEN_BIT(XDPFW_SCREEN_IP_RECORD_ROUTE) |    \
	 SCREEN_BIT(XDPFW_SCREEN_IP_TIMESTAMP) | SCREEN_BIT(XDPFW_SCREEN_IP_SECURITY) |                  \
	 SCREEN_BIT(XDPFW_SCREEN_IP_STREAM) | SCREEN_BIT(XDPFW_SCREEN_IP_BAD_OPTION))

/* IP options; an IPv6 type 0 routing header is a loose source route (Junos). */
static __always_inline __u32 screen_ip_options(const struct packet *pkt, __u64 on, void *data, void *data_end)
{
	if (!(on & IP_OPTION_SCREENS))
		return XDPFW_SCREEN_NONE;
	__u64 opts = pkt->flags & PKT_IPV6_RH0 ? OPT_BIT(IPOPT_LSRR) : 0;
	if (pkt->key.family == AF_INET) {
		const struct iphdr *ip4 = screen_l3(pkt, data);
		if ((void *)(ip4 + 1) <= data_end && ip4->ihl > 5)
			opts |= ipv4_options(ip4, data_end);
	}
	if (!opts)
		return XDPFW_SCREEN_NONE;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_BAD_OPTION) && opts & OPT_MALFORMED)
		return XDPFW_SCREEN_IP_BAD_OPTION;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_SOURCE_ROUTE) && opts & (OPT_BIT(IPOPT_LSRR) | OPT_BIT(IPOPT_SSRR)))
		return XDPFW_SCREEN_IP_SOURCE_ROUTE;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_LOOSE_SOURCE_ROUTE) && opts & OPT_BIT(IPOPT_LSRR))
		return XDPFW_SCREEN_IP_LOOSE_SOURCE_ROUTE;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_STRICT_SOURCE_ROUTE) && opts & OPT_BIT(IPOPT_SSRR))
		return XDPFW_SCREEN_IP_STRICT_SOURCE_ROUTE;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_RECORD_ROUTE) && opts & OPT_BIT(IPOPT_RR))
		return XDPFW_SCREEN_IP_RECORD_ROUTE;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_TIMESTAMP) && opts & OPT_BIT(IPOPT_TIMESTAMP))
		return XDPFW_SCREEN_IP_TIMESTAMP;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_SECURITY) && opts & OPT_BIT(IPOPT_SEC))
		return XDPFW_SCREEN_IP_SECURITY;
	if (on & SCREEN_BIT(XDPFW_SCREEN_IP_STREAM) && opts & OPT_BIT(IPOPT_SID))
		return XDPFW_SCREEN_IP_STREAM;
	return XDPFW_SCREEN_NONE;
}

/*
 * Teardrop, as far as one fragment shows it without reassembly:
 *  - a fragment other than the last carrying no data or a length that is not
 *    a multiple of 8: the next one must overlap it or leave a hole;
 *  - TCP data at offset 8, which rewrites the TCP flags (RFC 1858);
 *  - a first fragment too short for its transport header (RFC 1858, 7112).
 */
static __always_inline int teardrop(const struct packet *pkt)
{
	if (pkt->flags & PKT_MORE_FRAGMENTS && (pkt->frag_len == 0 || pkt->frag_len & 7))
		return 1;
	if (pkt->key.protocol == IPPROTO_TCP && pkt->frag_offset == 8)
		return 1;
	return pkt->frag_offset == 0 && !(pkt->flags & PKT_L4) && l4_header_len(pkt->key.protocol);
}

static __always_inline __u32 screen_fragment(const struct packet *pkt, __u64 on)
{
	int icmp = pkt->key.protocol == IPPROTO_ICMP || pkt->key.protocol == IPPROTO_ICMPV6;
	/* An ICMP packet whose reassembled length field would pass 65535
	 * (IPv4: the whole packet; IPv6: the payload). */
	if (on & SCREEN_BIT(XDPFW_SCREEN_PING_OF_DEATH) && icmp &&
	    (__u32)pkt->frag_unfragmentable + pkt->frag_offset + pkt->frag_len > 65535)
		return XDPFW_SCREEN_PING_OF_DEATH;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TEARDROP) && teardrop(pkt))
		return XDPFW_SCREEN_TEARDROP;
	if (on & SCREEN_BIT(XDPFW_SCREEN_ICMP_FRAGMENT) && icmp)
		return XDPFW_SCREEN_ICMP_FRAGMENT;
	if (on & SCREEN_BIT(XDPFW_SCREEN_SYN_FRAGMENT) && pkt->key.protocol == IPPROTO_TCP &&
	    pkt->flags & PKT_L4 && pkt->tcp_flags & TCP_FLAG_SYN)
		return XDPFW_SCREEN_SYN_FRAGMENT;
	return XDPFW_SCREEN_NONE;
}

/* TCP flag screens; the caller has the TCP header (never a later fragment). */
static __always_inline __u32 screen_tcp_flags(const struct packet *pkt, __u64 on)
{
	__u8 f = pkt->tcp_flags;
	const __u32 *s = pkt->key.src_addr, *d = pkt->key.dst_addr;
	if (on & SCREEN_BIT(XDPFW_SCREEN_LAND) && f & TCP_FLAG_SYN &&
	    s[0] == d[0] && s[1] == d[1] && s[2] == d[2] && s[3] == d[3])
		return XDPFW_SCREEN_LAND;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TCP_SYN_FIN) && (f & (TCP_FLAG_SYN | TCP_FLAG_FIN)) == (TCP_FLAG_SYN | TCP_FLAG_FIN))
		return XDPFW_SCREEN_TCP_SYN_FIN;
	/* None of the six RFC 793 control bits. */
	if (on & SCREEN_BIT(XDPFW_SCREEN_TCP_NO_FLAG) && !(f & 0x3f))
		return XDPFW_SCREEN_TCP_NO_FLAG;
	if (on & SCREEN_BIT(XDPFW_SCREEN_TCP_FIN_NO_ACK) && (f & (TCP_FLAG_FIN | TCP_FLAG_ACK)) == TCP_FLAG_FIN)
		return XDPFW_SCREEN_TCP_FIN_NO_ACK;
	/* Urgent data to NetBIOS session service. */
	if (on & SCREEN_BIT(XDPFW_SCREEN_WINNUKE) && f & TCP_FLAG_URG && pkt->key.dst_port == bpf_htons(139))
		return XDPFW_SCREEN_WINNUKE;
	return XDPFW_SCREEN_NONE;
}

static __always_inline int echo_request(const struct packet *pkt)
{
	return pkt->key.protocol == IPPROTO_ICMP ? pkt->icmp_type == ICMP_ECHO
						 : pkt->icmp_type == ICMPV6_ECHO_REQUEST;
}

/* One flood rate: packets this second for k, over `threshold`? */
static __always_inline int flooded(struct screen_rate_key *k, __u32 screen, const __u32 *addr, __u32 threshold, __u32 sec)
{
	k->screen = screen;
	__builtin_memcpy(k->addr, addr, sizeof(k->addr));
	return flood_count(k, sec, threshold) > threshold;
}

/* A sweep: has the packet's source reached XDPFW_SCAN_ITEMS destination
 * addresses in the window (ICMP echo: ip-sweep; TCP SYN: tcp-sweep; UDP:
 * udp-sweep)? */
static __always_inline int swept(struct screen_seen_key *seen, __u32 screen, const struct packet *pkt, __u32 window_us)
{
	seen->screen = screen;
	seen->port = 0;
	__builtin_memcpy(seen->src, pkt->key.src_addr, sizeof(seen->src));
	__builtin_memcpy(seen->dst, pkt->key.dst_addr, sizeof(seen->dst));
	return scan_count(seen, window_us) >= XDPFW_SCAN_ITEMS;
}

/*
 * Rate screens, in this order: SYN-ACK-ACK proxy (handshake-only sessions
 * of the source, bpf/syn_ack_ack_proxy.h), SYN flood (destination address and port,
 * then source, then destination address), port scan, TCP sweep; UDP flood,
 * UDP port scan, UDP sweep; ICMP flood, IP sweep. The first that trips stops the others: a dropped packet is not
 * counted against later limits.
 */
static __always_inline struct screen_hit screen_rates(const struct packet *pkt, __u16 zone,
						      const struct xdpfw_screen_profile *p)
{
	struct screen_hit hit = { .screen = XDPFW_SCREEN_NONE, .log = 1 };
	__u64 on = p->screens;
	__u32 sec;
	struct screen_rate_key k = { .zone = zone, .family = pkt->key.family };
	struct screen_seen_key seen = { .zone = zone, .family = pkt->key.family };

	if (!(pkt->flags & PKT_L4)) /* later fragments; protocols without a header we read */
		return hit;
	switch (pkt->key.protocol) {
	case IPPROTO_TCP:
		if ((pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
			break;
		if (on & SCREEN_BIT(XDPFW_SCREEN_SYN_ACK_ACK_PROXY) && proxy_full(pkt, zone, p->syn_ack_ack_proxy)) {
			hit.screen = XDPFW_SCREEN_SYN_ACK_ACK_PROXY;
			break;
		}
		sec = second_now();
		if (p->flags & XDPFW_SCREEN_SYN_FLOOD_WHITE_LIST && syn_flood_exempt(pkt, zone))
			goto scans;
		if (on & SCREEN_BIT(XDPFW_SCREEN_SYN_FLOOD)) {
			/* Junos proxies SYNs past the attack threshold and logs
			 * once the proxied ones pass the alarm threshold; with no
			 * proxy, they are dropped, and logged past both. */
			k.screen = XDPFW_SCREEN_SYN_FLOOD;
			k.port = pkt->key.dst_port;
			__builtin_memcpy(k.addr, pkt->key.dst_addr, sizeof(k.addr));
			__u32 n = flood_count(&k, sec, p->syn_attack + p->syn_alarm);
			k.port = 0;
			if (n > p->syn_attack) {
				hit.screen = XDPFW_SCREEN_SYN_FLOOD;
				hit.log = n > p->syn_attack + p->syn_alarm;
				break;
			}
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_SYN_FLOOD_SRC_IP) &&
		    flooded(&k, XDPFW_SCREEN_SYN_FLOOD_SRC_IP, pkt->key.src_addr, p->syn_source, sec)) {
			hit.screen = XDPFW_SCREEN_SYN_FLOOD_SRC_IP;
			break;
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_SYN_FLOOD_DST_IP) &&
		    flooded(&k, XDPFW_SCREEN_SYN_FLOOD_DST_IP, pkt->key.dst_addr, p->syn_destination, sec)) {
			hit.screen = XDPFW_SCREEN_SYN_FLOOD_DST_IP;
			break;
		}
scans:
		if (on & SCREEN_BIT(XDPFW_SCREEN_TCP_PORT_SCAN) && p->port_scan_us) {
			seen.screen = XDPFW_SCREEN_TCP_PORT_SCAN;
			seen.port = pkt->key.dst_port;
			__builtin_memcpy(seen.src, pkt->key.src_addr, sizeof(seen.src));
			if (scan_count(&seen, p->port_scan_us) >= XDPFW_SCAN_ITEMS) {
				hit.screen = XDPFW_SCREEN_TCP_PORT_SCAN;
				break;
			}
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_TCP_SWEEP) && p->tcp_sweep_us &&
		    swept(&seen, XDPFW_SCREEN_TCP_SWEEP, pkt, p->tcp_sweep_us))
			hit.screen = XDPFW_SCREEN_TCP_SWEEP;
		break;
	case IPPROTO_UDP:
		if (on & SCREEN_BIT(XDPFW_SCREEN_UDP_FLOOD) &&
		    !(p->flags & XDPFW_SCREEN_UDP_FLOOD_WHITE_LIST && udp_flood_exempt(pkt, zone)) &&
		    flooded(&k, XDPFW_SCREEN_UDP_FLOOD, pkt->key.dst_addr, p->udp_flood, second_now())) {
			hit.screen = XDPFW_SCREEN_UDP_FLOOD;
			break;
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_UDP_PORT_SCAN) && p->udp_port_scan_us) {
			seen.screen = XDPFW_SCREEN_UDP_PORT_SCAN;
			seen.port = pkt->key.dst_port;
			__builtin_memcpy(seen.src, pkt->key.src_addr, sizeof(seen.src));
			if (scan_count(&seen, p->udp_port_scan_us) >= XDPFW_SCAN_ITEMS) {
				hit.screen = XDPFW_SCREEN_UDP_PORT_SCAN;
				break;
			}
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_UDP_SWEEP) && p->udp_sweep_us &&
		    swept(&seen, XDPFW_SCREEN_UDP_SWEEP, pkt, p->udp_sweep_us))
			hit.screen = XDPFW_SCREEN_UDP_SWEEP;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (on & SCREEN_BIT(XDPFW_SCREEN_ICMP_FLOOD) &&
		    flooded(&k, XDPFW_SCREEN_ICMP_FLOOD, pkt->key.dst_addr, p->icmp_flood, second_now())) {
			hit.screen = XDPFW_SCREEN_ICMP_FLOOD;
			break;
		}
		if (on & SCREEN_BIT(XDPFW_SCREEN_IP_SWEEP) && p->ip_sweep_us && echo_request(pkt) &&
		    swept(&seen, XDPFW_SCREEN_IP_SWEEP, pkt, p->ip_sweep_us))
			hit.screen = XDPFW_SCREEN_IP_SWEEP;
		break;
	}
	return hit;
}

/* The first screen of the profile the packet trips: IP options, the
 * protocol-level checks (screens_packet.h), fragments, TCP flags, then the
 * rates. */
static __always_inline struct screen_hit screen_check(struct xdp_md *ctx, const struct packet *pkt, __u16 zone,
						      const struct xdpfw_screen_profile *p, void *data_end)
{
	void *data = (void *)(long)ctx->data;
	struct screen_hit hit = { .screen = screen_ip_options(pkt, p->screens, data, data_end), .log = 1 };
	/* IPv6 option and header types named, and bad options (bpf/ipv6_options.h). */
	if (!hit.screen && pkt->key.family == AF_INET6 &&
	    (p->flags & XDPFW_SCREEN_IPV6_OPTIONS ||
	     (p->screens & SCREEN_BIT(XDPFW_SCREEN_IP_BAD_OPTION) &&
	      pkt->ipv6_ext & (XDPFW_IPV6_EXT_HOP_BY_HOP | XDPFW_IPV6_EXT_DESTINATION)))) {
		int found = xdpfw_ipv6_options(ctx, pkt->l3_offset, p);
		if (found & IPV6_OPT_MALFORMED && p->screens & SCREEN_BIT(XDPFW_SCREEN_IP_BAD_OPTION))
			hit.screen = XDPFW_SCREEN_IP_BAD_OPTION;
		else if (found & IPV6_OPT_LISTED && p->screens & SCREEN_BIT(XDPFW_SCREEN_IPV6_EXTENSION_HEADER))
			hit.screen = XDPFW_SCREEN_IPV6_EXTENSION_HEADER;
	}
	if (!hit.screen)
		hit.screen = screen_packet(pkt, p, p->screens, data, data_end);
	if (!hit.screen && pkt->flags & PKT_FRAGMENT)
		hit.screen = screen_fragment(pkt, p->screens);
	if (!hit.screen && pkt->key.protocol == IPPROTO_TCP && pkt->flags & PKT_L4)
		hit.screen = screen_tcp_flags(pkt, p->screens);
	return hit.screen ? hit : screen_rates(pkt, zone, p);
}

/*
 * Counts what a screen did, on a frame of len bytes, in the zone's
 * counters, and says whether it is logged: a SCREEN_DROP event (action
 * drop, or alarm for alarm-without-drop) goes out at most at the
 * screen-drop event rate (event_rate()) per (zone, screen) and second; the
 * rest are counted as suppressed, before any ring reservation, so a flood
 * cannot fill the ring. Inlined into screen_verdict() (xdpfw.bpf.c) with
 * the verdict's own counting: on a flood every call and helper counts.
 */
static __always_inline int screen_account(__u32 zone, __u32 screen, __u32 log, __u32 alarm, __u32 len)
{
	__u32 slot = zone * XDPFW_SCREEN_SLOTS + screen;
	struct xdpfw_screen_counter *c = bpf_map_lookup_elem(&xdpfw_screen_stats, &slot);
	if (c) {
		if (alarm)
			c->alarms++;
		else
			c->drops++;
	}
	if (!log)
		return 0;
	__u64 *budget = bpf_map_lookup_elem(&xdpfw_screen_budget, &slot);
	__u32 rate = event_rate(XDPFW_EVENT_SCREEN_DROP);
	if (!budget || window_count(budget, second_now(), rate) > rate) {
		if (c)
			c->events_suppressed++;
		event_suppressed_len(XDPFW_EVENT_SCREEN_DROP, len);
		return 0;
	}
	return 1;
}

/* The SCREEN_DROP event of a screen's verdict that fits in its budget. */
static __always_inline void screen_event(struct xdp_md *ctx, void *counters, const struct packet *pkt,
					 __u16 zone, struct screen_hit hit, int alarm)
{
	emit_event(ctx, counters, &pkt->key, &(struct xdpfw_event_facts){
		.kind = XDPFW_EVENT_SCREEN_DROP,
		.action = alarm ? XDPFW_ACTION_ALARM : XDPFW_ACTION_DROP,
		.screen_id = hit.screen,
		.ingress_zone = zone,
		.icmp_type = pkt->icmp_type,
	});
}

#endif
