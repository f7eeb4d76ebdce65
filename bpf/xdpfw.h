/* SPDX-License-Identifier: MIT */
/*
 * Layouts shared by the XDP programs and userspace: map keys and values,
 * counter indices, route-probe results. This header is the single definition;
 * the TypeScript side reads these layouts from the BTF of the compiled object
 * and refuses to run when its own view disagrees (lib/dataplane/layout.ts).
 */
#ifndef XDPFW_H
#define XDPFW_H

#include <linux/types.h>

/* Constants as an enum so they reach userspace through BTF. */
enum xdpfw_constants {
	/* Bumped whenever a pinned map's layout changes; stored in the meta
	 * map so a new build refuses pinned maps written by an older one. */
	XDPFW_LAYOUT_VERSION = 1,
	XDPFW_MAX_IFACES = 64,  /* interfaces one daemon attaches to */
	XDPFW_MAX_QUEUES = 64,  /* rx queues per interface with an AF_XDP socket */
	XDPFW_MAX_SESSION_ENTRIES = 2 * 1048576, /* two entries per session */
};

/* Session key: one entry per direction. Addresses and ports are in network
 * byte order as on the wire; IPv4 uses addr[0] and leaves the rest zero. For
 * ICMP echo the identifier stands in for a port: a request is keyed
 * (src_port = id, dst_port = 0), a reply (src_port = 0, dst_port = id), so a
 * reply matches the reverse entry of its request. */
struct xdpfw_session_key {
	__u8 family;   /* AF_INET or AF_INET6 */
	__u8 protocol; /* IANA protocol number */
	__u16 pad;
	__u16 src_port;
	__u16 dst_port;
	__u32 src_addr[4];
	__u32 dst_addr[4];
};

enum xdpfw_session_flags {
	XDPFW_SESS_REVERSE = 1, /* entry for server -> client packets */
	XDPFW_SESS_LOCAL = 2,   /* destination is the box itself: XDP_PASS */
};

/* Value of one direction's entry. Session-level facts (ids, zones, policy)
 * are written identically into both entries so either one alone is enough
 * to rebuild the session after a daemon restart. Counters are this
 * direction's only. */
struct xdpfw_session {
	__u64 session_id;
	__u64 created_ns;   /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 last_seen_ns; /* updated by every packet of this direction */
	__u64 packets;
	__u64 bytes;
	__u32 policy_id;
	__u32 ingress_ifindex; /* where this direction's packets arrive */
	__u16 from_zone;       /* zone ids of the session (client side first) */
	__u16 to_zone;
	__u8 flags;            /* enum xdpfw_session_flags */
	__u8 tcp_state;        /* owned by the slow path */
	__u16 pad;
};

/* Per-interface facts the fast path needs. Keyed by ifindex. */
struct xdpfw_iface {
	__u32 slot; /* 0..XDPFW_MAX_IFACES-1, selects the XSKMAP block */
	__u16 zone_id;
	__u16 flags;
};

/* Per-CPU counters, indexed by enum xdpfw_counter. Every verdict the
 * programs reach increments exactly one of them. */
struct xdpfw_counter_value {
	__u64 packets;
	__u64 bytes;
};

enum xdpfw_counter {
	XDPFW_CNT_FAST_FORWARD = 0,   /* session hit, redirected out */
	XDPFW_CNT_FAST_LOCAL,         /* session hit, local delivery (XDP_PASS) */
	XDPFW_CNT_FAST_KERNEL,        /* session hit, handed to the kernel: no neighbour, TTL, MTU, VLAN, egress not ours */
	XDPFW_CNT_SLOW_PATH,          /* redirected into the AF_XDP socket */
	XDPFW_CNT_PASS_NON_IP,        /* ARP and other non-IP: kernel */
	XDPFW_CNT_PASS_NEIGHBOR,      /* IPv6 neighbour discovery / MLD: kernel */
	XDPFW_CNT_DROP_MALFORMED,     /* truncated or invalid headers */
	XDPFW_CNT_DROP_FRAGMENT,      /* IP fragments (no reassembly yet) */
	XDPFW_CNT_DROP_NO_SOCKET,     /* miss on a queue without an AF_XDP socket */
	XDPFW_CNT_DROP_NO_ROUTE,      /* session hit but the route is unreachable/blackhole/prohibit */
	XDPFW_CNT_INJECT_FORWARD,     /* slow path re-injection, redirected out */
	XDPFW_CNT_INJECT_LOCAL,       /* slow path re-injection, delivered locally */
	XDPFW_CNT_INJECT_KERNEL,      /* slow path re-injection, handed to the kernel */
	XDPFW_CNT_INJECT_MISS,        /* re-injected packet found no session: dropped */
	XDPFW_CNT__MAX,
};

/* Written by xdpfw_rx into the XDP metadata area in front of every frame it
 * sends to the slow path, so userspace never parses headers a second time:
 * the key's addresses are read at l3_offset, everything else is here. */
struct xdpfw_rx_meta {
	__u8 family;
	__u8 protocol;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u16 l3_offset;
	__u16 l3_len;
	__u16 src_port;  /* as in the session key (network order) */
	__u16 dst_port;
	__u8 icmp_code;
	__u8 pad;
	__u16 reserved;
};

/* Result of the route probe program, prepended to the probed packet. */
struct xdpfw_route_result {
	__u32 fib_rc;     /* BPF_FIB_LKUP_RET_* */
	__u32 ifindex;    /* egress interface (valid for SUCCESS and NO_NEIGH) */
};

/* Facts about the loaded layout, in the single-entry meta array. */
struct xdpfw_meta {
	__u32 layout_version;
	__u32 reserved;
};

#endif
