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
#include <linux/bpf.h> /* struct bpf_spin_lock */

/* Constants as an enum so they reach userspace through BTF. */
enum xdpfw_constants {
	/* Bumped whenever a pinned map's layout changes; stored in the meta
	 * map so a new build refuses pinned maps written by an older one. */
	XDPFW_LAYOUT_VERSION = 10,
	XDPFW_MAX_IFACES = 64,  /* interfaces one daemon attaches to */
	XDPFW_MAX_QUEUES = 64,  /* rx queues per interface with an AF_XDP socket */
	XDPFW_MAX_SESSION_ENTRIES = 1048576, /* one entry per session */
	/* Rows of xdpfw_verdict_rows: the distinct combinations of cached filter
	 * verdicts the sessions hold at once (row 0: no filter anywhere). */
	XDPFW_MAX_VERDICT_ROWS = 65536,
	XDPFW_EVENT_VERSION = 1, /* bumped whenever struct xdpfw_event changes */
	XDPFW_MAX_ZONES = 256,   /* zone ids below this can have a screen profile */
	XDPFW_SCREEN_SLOTS = 64, /* per-zone stride of the screen counters: above every enum xdpfw_screen */
	XDPFW_EVENT_KIND_SLOTS = 8,  /* per-zone stride of the XDP event budgets: above every enum xdpfw_event_kind */
	XDPFW_XDP_EVENTS_PER_SECOND = 100, /* ring records per second and (zone, kind), or (zone, screen), while xdpfw_event_rates holds 0 */
	XDPFW_SCAN_ITEMS = 10,   /* ports (port scan) or addresses (IP sweep) one source may reach per window */
	XDPFW_MAX_FILTER_COUNTERS = 65536, /* `count` counters of the whole configuration, 1-based */
	XDPFW_XSK_FRAME_SIZE = 2048, /* UMEM frame of the slow path's AF_XDP sockets */
	/* The largest frame one UMEM frame holds: the kernel keeps
	 * XDP_PACKET_HEADROOM (256) in front of it, and xdpfw_rx pushes its
	 * struct xdpfw_rx_meta (24 bytes, asserted below) in front of the
	 * frame. A socket without multi-buffer support (XDP_USE_SG) takes
	 * nothing larger. */
	XDPFW_XSK_FRAME_DATA = XDPFW_XSK_FRAME_SIZE - 256 - 24,
	/* The largest frame the slow path takes: its sockets are multi-buffer,
	 * a larger frame arrives in several UMEM frames (a 9000-byte MTU link
	 * and VLAN tags fit). */
	XDPFW_SLOW_PATH_MAX_FRAME = 16384,
	XDPFW_MAX_FRAGMENT_ENTRIES = 65536, /* datagrams in flight whose later fragments can be followed (bpf/fragments.h) */
	XDPFW_FRAGMENT_TIMEOUT_MS = 5000,   /* how long later fragments may follow their first one */
	/* Packets too big for their egress link sent to the slow path per second
	 * (every CPU together), to be answered; past it they are dropped unanswered. */
	XDPFW_TOO_BIG_PER_SECOND = 200,
};

/* A packet's tuple as its sender sees it (parse.h fills it; events, the
 * slow path's metadata and the fragment table carry it). Addresses and
 * ports are in network byte order as on the wire; IPv4 uses addr[0] and
 * leaves the rest zero. For ICMP echo the identifier stands in for a port:
 * a request is (src_port = id, dst_port = 0), a reply (src_port = 0,
 * dst_port = id), so a reply is its request's tuple reversed. */
struct xdpfw_session_key {
	__u8 family;   /* AF_INET or AF_INET6 */
	__u8 protocol; /* IANA protocol number */
	__u16 pad;
	__u16 src_port;
	__u16 dst_port;
	__u32 src_addr[4];
	__u32 dst_addr[4];
};

/* The key of a session in xdpfw_sessions: one entry per session, found by
 * the packets of both directions. The two endpoints of the tuple are in a
 * fixed order: the smaller address first (compared byte by byte, as on the
 * wire), for equal addresses the smaller port (as a number); a packet whose
 * source sorts after its destination swaps them. The entry's
 * client_is_first says which endpoint is the client, so a packet's
 * direction is (its source is endpoint 0) == client_is_first ? from the
 * client : from the server. Byte order and ICMP echo as in the tuple. */
struct xdpfw_flow_key {
	__u8 family;
	__u8 protocol;
	__u16 pad;
	__u16 port[2];    /* port[i] belongs to addr[i] */
	__u32 addr[2][4];
};

/* ------------------------------------------------------------ filter verdicts
 *
 * What one firewall filter decided for one direction of a flow, computed by
 * the slow path (lib/filter/engine.ts) on the flow's first packet and cached
 * in the session entry, so XDP enforces, counts and logs it on every packet
 * of the established flow without scanning terms.
 */
enum xdpfw_filter_action {
	XDPFW_FILTER_ACTION_NONE = 0, /* no filter on this attach point */
	XDPFW_FILTER_ACTION_ACCEPT,
	XDPFW_FILTER_ACTION_DISCARD,
	XDPFW_FILTER_ACTION_REJECT,   /* answered by the slow path: XDP hands the packet up */
};

enum xdpfw_filter_flags {
	XDPFW_FILTER_FLAG_LOG = 1,    /* `then log` */
	XDPFW_FILTER_FLAG_SYSLOG = 2, /* `then syslog` */
};

struct xdpfw_filter_verdict {
	__u32 filter_id;    /* 0: no filter (the rest is zero too) */
	__u16 term_id;      /* 0: the implicit discard at the end of every filter */
	__u16 counter;      /* index into xdpfw_filter_counters of `count C`; 0: none */
	__u32 table_id;     /* kernel routing table of `routing-instance` (input filters); 0: main */
	__u8 action;        /* enum xdpfw_filter_action */
	__u8 flags;         /* enum xdpfw_filter_flags */
	__u8 reject_reason; /* index of the `reject` reason (lib/config/filters.ts FILTER_REJECT_REASONS) */
	__u8 pad;
	/* Terms of this filter that match per-packet fields (tcp-flags, dscp,
	 * icmp-type/code, packet-length) and could match this flow: index of
	 * their residual program in xdpfw_filter_programs (bpf/filter_terms.h),
	 * which XDP runs on every packet instead of replaying the verdict above.
	 * 0: the verdict above holds for every packet of the flow;
	 * XDPFW_FILTER_PROGRAM_SLOW_PATH: the program did not fit, the slow
	 * path judges each packet. */
	__u32 program;
};

/* The cached filters of one direction of a flow: `input` of the interface
 * its packets arrive on (its table_id routes the flow); `output` of the
 * interface they leave by, or the lo0 filter for a session to the box. */
struct xdpfw_direction_verdicts {
	struct xdpfw_filter_verdict input;
	struct xdpfw_filter_verdict output;
};

/* The four cached verdicts of a session, the value of xdpfw_verdict_rows.
 * Flows judged by the same filters and terms share one row: a session entry
 * names its row (`verdicts`), the daemon writes rows, counts the sessions
 * using each and frees a row nobody uses (lib/session/verdict-rows.ts).
 * Row 0 is never written: no filter in either direction. */
struct xdpfw_verdict_row {
	struct xdpfw_direction_verdicts dir[2]; /* [0]: client -> server, [1]: server -> client */
};

enum xdpfw_session_flags {
	XDPFW_SESS_LOCAL = 2,   /* destination is the box itself: XDP_PASS */
	XDPFW_SESS_BOX_CONNECTION = 4, /* local, answering a connection the box opened (no host-inbound check) */
};

/* TCP connection states, tracked by XDP (bpf/tcp_state.h) in the session's
 * entry. The slow path installs a session in NONE; its first
 * packet, run through xdpfw_inject_new, moves it on. */
enum xdpfw_tcp_state {
	XDPFW_TCP_NONE = 0,
	XDPFW_TCP_SYN_SENT,    /* client SYN seen */
	XDPFW_TCP_SYN_RECV,    /* server SYN-ACK seen */
	XDPFW_TCP_ESTABLISHED, /* client ACK of the SYN-ACK seen (or picked up mid-stream) */
	XDPFW_TCP_FIN_WAIT,    /* one side sent FIN, not acknowledged yet */
	XDPFW_TCP_CLOSE_WAIT,  /* one side's FIN acknowledged: half-closed */
	XDPFW_TCP_LAST_ACK,    /* both sides sent FIN, one not acknowledged yet */
	XDPFW_TCP_TIME_WAIT,   /* both FINs acknowledged: closed */
	XDPFW_TCP_CLOSE,       /* an accepted RST: closed */
};

enum xdpfw_tcp_dir_flags {
	XDPFW_TCP_DIR_WSCALE = 1,    /* sent the window scale option on its SYN */
	XDPFW_TCP_DIR_FIN = 2,       /* sent a FIN (its td_end counts it) */
	XDPFW_TCP_DIR_FIN_ACKED = 4, /* that FIN was acknowledged by the other side */
	XDPFW_TCP_DIR_MAXACK = 8,    /* td_maxack holds an ACK this side sent */
	XDPFW_TCP_DIR_LIBERAL = 16,  /* picked up mid-stream: windows not enforced */
	/* Client side only: completed the handshake and sent nothing since, counted
	 * in xdpfw_proxy_pending by the syn-ack-ack-proxy screen (bpf/syn_ack_ack_proxy.h). */
	XDPFW_TCP_DIR_HANDSHAKE_ONLY = 32,
};

/* What XDP knows of one side's sequence space, as Linux conntrack keeps it
 * (nf_conntrack_proto_tcp.c): the side is the sender of this direction. */
struct xdpfw_tcp_dir {
	__u32 td_end;    /* highest sequence number sent, plus its length */
	__u32 td_maxend; /* highest sequence number the other side's window allows */
	__u32 td_maxwin; /* largest window (scaled) this side's peer may need */
	__u32 td_maxack; /* highest ACK this side sent */
	__u8 td_scale;   /* window scale this side announced (0 without both SYN options) */
	__u8 flags;      /* enum xdpfw_tcp_dir_flags */
	__u16 pad;
};

/* A session's TCP connection. XDP copies it out under the entry's lock,
 * judges a packet on the copy, and writes it back under the lock if
 * `version` has not moved meanwhile (bpf/tcp_state.h). */
struct xdpfw_tcp_conn {
	__u8 state;        /* enum xdpfw_tcp_state */
	__u8 close_reason; /* enum xdpfw_close_reason, once XDP closed the session */
	__u16 version;     /* bumped by every write (wraps: only equality matters) */
	__u32 closed_s;    /* when XDP closed the session: seconds of CLOCK_MONOTONIC */
	struct xdpfw_tcp_dir dir[2]; /* [0]: the client's side, [1]: the server's */
};

enum xdpfw_close_flags {
	/* XDP wrote the SESSION_CLOSE record into the event ring: the slow
	 * path, which removes the entries later, does not write it again. */
	XDPFW_CLOSE_EVENT_WRITTEN = 1,
};

/* The next hops of both directions as route lookups found them, kept so the
 * packets after them are forwarded without a lookup (bpf/egress_cache.h).
 * A direction's next hop holds while its bit is set in the entry's
 * egress_kept, the route generation below is current and the daemon's
 * lease on it runs (struct xdpfw_route_lease); it leaves by the other
 * direction's ingress interface, whose source MAC and MTU the port entry
 * of that interface holds (struct xdpfw_egress_port). */
struct xdpfw_egress {
	__u32 generation; /* xdpfw_route_lease generation both were found under; 0: none */
	__u8 dmac[2][6];  /* the next hop's MAC, [0]: client -> server, [1]: back */
};

/* What every kept next hop leaving by one interface shares, the value of
 * xdpfw_egress_ports (keyed by ifindex), written by XDP only: the
 * interface's MAC, and the smallest route MTU of the next hops kept through
 * it under `generation` (a packet larger is looked up again). */
struct xdpfw_egress_port {
	struct bpf_spin_lock lock; /* guards a change of generation and the MTU's minimum */
	__u32 generation;          /* xdpfw_route_lease generation; 0: none */
	__u16 mtu;
	__u8 smac[6];
};

enum xdpfw_egress_kept {
	XDPFW_EGRESS_KEPT_CLIENT = 1, /* dmac[0] holds under `generation` */
	XDPFW_EGRESS_KEPT_SERVER = 2, /* dmac[1] holds */
};

/*
 * The value of a session's one entry in xdpfw_sessions (key: struct
 * xdpfw_flow_key), 144 bytes: a preallocated hash entry then costs about
 * 249 bytes (the htab element, key, value, bucket). Every per-direction
 * field is an array indexed by the direction ([0]: client -> server
 * packets, [1]: server -> client), which XDP applies as an offset, never as
 * a branch. The entry alone rebuilds (or mirrors) the whole session: its
 * key, client_is_first, its facts, its TCP connection (its cached filter
 * verdicts in the row `verdicts` names).
 */
struct xdpfw_session {
	__u64 session_id;
	__u64 last_seen_ns;    /* CLOCK_MONOTONIC (coarse), updated by every packet */
	__u64 packets[2];
	__u64 bytes[2];
	__u32 created_s;       /* seconds of CLOCK_MONOTONIC */
	__u32 policy_id;
	/* Where each direction's packets arrive; a packet arriving elsewhere
	 * never uses the entry (dropped). Each direction leaves by the other's
	 * ingress, where its policy saw it leave: a route that now leaves
	 * elsewhere sends the packet to the slow path, which checks the policy
	 * of the new zone pair. [1] is 0 for a session to the box. */
	__u32 ingress_ifindex[2];
	__u16 zone[2];         /* [0]: the client's zone (from-zone), [1]: the server's */
	__u8 flags;            /* enum xdpfw_session_flags */
	__u8 close_flags;      /* enum xdpfw_close_flags */
	__u8 client_is_first;  /* 1: the client is the key's endpoint 0 */
	__u8 egress_kept;      /* enum xdpfw_egress_kept, written by XDP only */
	/* Row of xdpfw_verdict_rows holding the session's cached filters; 0: no
	 * filter in either direction. The daemon clears `egress` when it writes
	 * another row or another ingress_ifindex: a kept next hop was found in
	 * the routing table and toward the interface they named. */
	__u32 verdicts;
	struct bpf_spin_lock lock; /* guards `tcp` */
	struct xdpfw_tcp_conn tcp; /* TCP state and both sides' tracking */
	struct xdpfw_egress egress;
};

/* `security flow tcp-session` as XDP applies it (xdpfw_tcp_settings). */
enum xdpfw_tcp_settings_flags {
	XDPFW_TCP_NO_SYN_CHECK = 1,      /* a TCP flow may start without a SYN (picked up mid-stream) */
	XDPFW_TCP_NO_SEQUENCE_CHECK = 2, /* sequence numbers and windows are not enforced */
};

struct xdpfw_tcp_settings {
	__u32 flags; /* enum xdpfw_tcp_settings_flags */
};

/* Per-interface facts the fast path needs. Keyed by ifindex. */
struct xdpfw_iface {
	__u32 slot; /* 0..XDPFW_MAX_IFACES-1, selects the XSKMAP block */
	__u16 zone_id;
	__u16 flags; /* enum xdpfw_iface_flags (bpf/vlan_units.h) */
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
	XDPFW_CNT_PASS_NON_IP,        /* ARP and the non-IP EtherTypes configured to pass: kernel */
	XDPFW_CNT_PASS_NEIGHBOR,      /* IPv6 neighbour discovery / MLD addressed to the box: kernel */
	XDPFW_CNT_DROP_MALFORMED,     /* truncated or invalid headers */
	XDPFW_CNT_DROP_FRAGMENT,      /* fragments that cannot be judged: a first one without its whole transport
	                               * header, an IPv6 header chain we cannot follow, a later one overlapping
	                               * the transport header its first fragment was judged by */
	XDPFW_CNT_DROP_NO_SOCKET,     /* miss on a queue without an AF_XDP socket */
	XDPFW_CNT_DROP_NO_ROUTE,      /* session hit but the route is unreachable/blackhole/prohibit */
	XDPFW_CNT_INJECT_FORWARD,     /* slow path re-injection, redirected out */
	XDPFW_CNT_INJECT_LOCAL,       /* slow path re-injection, delivered locally */
	XDPFW_CNT_INJECT_KERNEL,      /* slow path re-injection, handed to the kernel */
	XDPFW_CNT_INJECT_MISS,        /* re-injected packet found no session: dropped */
	XDPFW_CNT_DROP_SCREEN,        /* dropped by a screen of the ingress zone */
	XDPFW_CNT_DROP_FILTER,        /* session hit, dropped by its cached filter verdict (discard) */
	XDPFW_CNT_DROP_PBR_KERNEL,    /* routing-instance session the fast path cannot finish (next hop not
	                               * resolved, tagged, MTU, egress not ours): the kernel would route it
	                               * by its own tables, so it is dropped */
	XDPFW_CNT_DROP_TOO_BIG,       /* for the slow path but larger than XDPFW_SLOW_PATH_MAX_FRAME (an MTU
	                               * above what its AF_XDP sockets take): the socket would lose it unseen */
	XDPFW_CNT_EVENT_RESERVE_FAIL, /* not a verdict: an event lost to a full ring buffer */
	XDPFW_CNT_DROP_FRAGMENT_NO_FIRST, /* a later fragment whose first one was not judged and let through (yet):
	                               * arrived before it, its flow was denied, or the entry timed out / was evicted */
	XDPFW_CNT_DROP_FRAGMENT_NO_SESSION, /* a later fragment whose first one's session is gone */
	XDPFW_CNT_DROP_TCP_OUT_OF_WINDOW, /* TCP segment outside the window tracked for its session */
	XDPFW_CNT_DROP_TCP_RST_INEXACT,   /* RST within the window, not at the exact next sequence (RFC 5961) */
	XDPFW_CNT_DROP_TCP_SYN_CHECK,     /* first packet of a TCP flow not a SYN (syn-check) */
	XDPFW_CNT_DROP_TCP_INVALID,       /* TCP flags that fit no state of the session (e.g. SYN-ACK from the client) */
	XDPFW_CNT_DROP_WRONG_INTERFACE, /* hit a session direction bound to another ingress interface */
	XDPFW_CNT_DROP_NEIGHBOR,      /* ICMPv6 ND/MLD not addressed to the box, or ND with a hop
	                               * limit other than 255 (RFC 4861): never passed to the kernel */
	XDPFW_CNT_DROP_NON_IP,        /* EtherType other than IP, ARP and those configured to pass */
	XDPFW_CNT_SESSION_REROUTED,   /* session hit whose route now leaves by another interface than
	                               * the one its policy was checked for: to the slow path, which
	                               * checks the policy of the new zone pair */
	XDPFW_CNT_DROP_REROUTED,      /* re-injected packet whose route moved again after the slow path
	                               * checked it: dropped, never forwarded unchecked */
	XDPFW_CNT_ICMP_ERROR_FORWARD, /* ICMP error forwarded along the session of the packet it quotes */
	XDPFW_CNT_ICMP_ERROR_LOCAL,   /* ICMP error about a connection of the box itself: delivered locally */
	XDPFW_CNT_DROP_ICMP_ERROR_NO_SESSION,   /* ICMP error quoting a packet of no session (errors never open one) */
	XDPFW_CNT_DROP_ICMP_ERROR_INCONSISTENT, /* ICMP error not addressed to the source of the packet it quotes */
	XDPFW_CNT_MTU_EXCEEDED,       /* session packet larger than the egress MTU, IPv6 or IPv4 with DF: not
	                               * forwarded; to the slow path (truncated), which answers with an ICMP
	                               * fragmentation-needed / packet-too-big */
	XDPFW_CNT_DROP_MTU_EXCEEDED_OVER_BUDGET, /* the same past XDPFW_TOO_BIG_PER_SECOND: dropped unanswered
	                                          * (the sender retransmits and is answered later) */
	XDPFW_CNT_FILTER_PROGRAM_SLOW_PATH, /* not a verdict (also in SLOW_PATH): a session packet whose filter
	                                     * terms did not fit an XDP residual program, judged in the slow path */
	XDPFW_CNT_DROP_FILTER_TABLE,  /* session hit, a per-packet filter term chose another routing table
	                               * than the flow was routed by: the egress (zone) could change unchecked */
	XDPFW_CNT_VLAN_TO_UNIT,       /* on a trunk, tagged with a VLAN a zone unit owns: tag off, redirected to the
	                               * unit's device, where xdpfw_rx judges it (bpf/vlan_units.h) */
	XDPFW_CNT_DROP_VLAN_UNKNOWN,  /* on a trunk, untagged or tagged with a VLAN no zone unit owns */
	XDPFW_CNT_DROP_POLICER,       /* beyond the bucket of a filter term's `then policer` (xdpfw_policer_drops
	                               * counts them per bucket) */
	/* Flood meters (flood_meter.h): bound for the slow path, shed in XDP. */
	XDPFW_CNT_SLOW_PATH_SHED_SOURCE,    /* over its source's budget (IPv4 /32, IPv6 /64) */
	XDPFW_CNT_SLOW_PATH_SHED_SYN,       /* a TCP SYN over the budget of new TCP connections */
	XDPFW_CNT_SLOW_PATH_SHED_NEW_FLOW,  /* a first packet (not a TCP SYN) over the budget of other new flows */
	XDPFW_CNT_SLOW_PATH_SHED_EXCEPTION, /* over the budget of the rest (cached rejects, fragments held,
	                                     * packets too big, rerouted sessions) */
	XDPFW_CNT_DENY_CACHE_HIT,           /* a repeat of a flow the policy denied moments ago: dropped in XDP */
	/* Trunk units (vlan_units.h). */
	XDPFW_CNT_VLAN_FROM_UNIT,     /* left by a unit's device: its VLAN tag on, redirected out of the trunk */
	XDPFW_CNT_DROP_VLAN_TAG,      /* a unit's tag could not be taken off or put on (no room), or a frame
	                               * left by a unit's internal end that no unit owns (any more) */
	/* Kept egresses (egress_cache.h). */
	XDPFW_CNT_EGRESS_LOOKUP,      /* not a verdict: while kept egresses are in use (the daemon's route
	                               * lease runs), an established packet whose route was looked up because
	                               * its entry kept none that held (its first packet, a new route
	                               * generation, a packet larger than the route MTU); the others left by
	                               * the kept egress */
	/* proxy-arp and proxy-ndp (neigh_proxy.h). */
	XDPFW_CNT_PROXY_ARP_ANSWER,   /* an ARP request for a proxied address: answered, sent back (XDP_TX) */
	XDPFW_CNT_PROXY_NDP_ANSWER,   /* a neighbour solicitation for a proxied address: answered (XDP_TX) */
	XDPFW_CNT_DROP_PROXY_NO_ROOM, /* a request for a proxied address whose answer did not fit the frame */
	XDPFW_CNT__MAX,
};

/* Programs xdpfw_rx hands a packet on to with bpf_tail_call(), by their slot
 * in xdpfw_tail_calls; each verified on its own (stack and complexity). The
 * loader fills the slots (lib/dataplane/dataplane.ts); an empty slot drops. */
enum xdpfw_tail_call {
	XDPFW_TAIL_ICMP_ERROR = 0, /* xdpfw_icmp_error */
	XDPFW_TAIL_SCREENS,        /* xdpfw_screens: the ingress zone has screens */
	XDPFW_TAIL_SESSION,        /* xdpfw_session: after the screens */
	XDPFW_TAIL__MAX,
};

/* Written by xdpfw_rx in front of every frame it sends to the slow path (as
 * the packet's first bytes: lib/slowpath/rx-meta.ts takes them off), so
 * userspace never parses headers a second time: the key's addresses are read
 * at l3_offset, everything else is here. */
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
	__u8 flags;      /* enum xdpfw_rx_meta_flags */
	/* Not 0: the packet exceeds this egress MTU and was not forwarded; the
	 * slow path answers with fragmentation-needed / packet-too-big. */
	__u16 mtu;
	/* bpf_ktime_get_ns() (CLOCK_MONOTONIC) as XDP sent it up: the slow path
	 * times its own wake-up against it. */
	__u64 rx_ns;
};

_Static_assert(sizeof(struct xdpfw_rx_meta) == 24, "XDPFW_XSK_FRAME_DATA leaves 24 bytes for it");

enum xdpfw_rx_meta_flags {
	/* A later fragment (no transport header, ports 0) held back while its
	 * first fragment is being judged: the slow path only re-injects it,
	 * after that first one, and XDP follows the first one's verdict. */
	XDPFW_RX_META_LATER_FRAGMENT = 1,
};

/* Input of the route probe program, in front of the probed frame. */
struct xdpfw_route_query {
	__u32 table_id; /* kernel routing table (policy-based routing); 0: the main table */
};

enum xdpfw_route_flags {
	/* Addressed to the box and answering a connection the box opened: a
	 * connected TCP or UDP socket of the box has this packet's tuple. */
	XDPFW_ROUTE_BOX_CONNECTION = 1,
};

/* Result of the route probe program, prepended to the probed packet. */
struct xdpfw_route_result {
	__u32 fib_rc;     /* BPF_FIB_LKUP_RET_* */
	__u32 ifindex;    /* egress interface (valid for SUCCESS and NO_NEIGH) */
	__u32 flags;      /* enum xdpfw_route_flags */
	__u32 pad;
};

/* Facts about the loaded layout, in the single-entry meta array. */
struct xdpfw_meta {
	__u32 layout_version;
	__u32 reserved;
};

/* ------------------------------------------------------------ security events
 *
 * One record for every security event, whoever emits it: the XDP programs
 * through the xdpfw_events ring buffer (bpf/events.h) and the slow path in
 * userspace (lib/events/record.ts). Enum values reach TypeScript through
 * BTF; 0 is never a valid kind and means "not applicable" in the others.
 */

enum xdpfw_event_kind {
	XDPFW_EVENT_SESSION_CREATE = 1,
	XDPFW_EVENT_SESSION_CLOSE,
	XDPFW_EVENT_POLICY_DENY,
	XDPFW_EVENT_SCREEN_DROP,
	XDPFW_EVENT_FILTER_LOG,
};

enum xdpfw_event_action {
	XDPFW_ACTION_NONE = 0,
	XDPFW_ACTION_PERMIT,  /* policy: session created */
	XDPFW_ACTION_DENY,    /* policy: dropped silently */
	XDPFW_ACTION_REJECT,  /* policy or filter: dropped with a TCP RST / ICMP unreachable */
	XDPFW_ACTION_ACCEPT,  /* filter term */
	XDPFW_ACTION_DISCARD, /* filter term */
	XDPFW_ACTION_ALARM,   /* screen in alarm-without-drop mode: the packet went on */
	XDPFW_ACTION_DROP,    /* screen */
};

enum xdpfw_close_reason {
	XDPFW_CLOSE_NONE = 0,
	XDPFW_CLOSE_TCP_FIN,
	XDPFW_CLOSE_TCP_RST,
	XDPFW_CLOSE_IDLE_TIMEOUT,
	XDPFW_CLOSE_CLEARED,       /* by the operator */
	XDPFW_CLOSE_POLICY_CHANGE, /* a new configuration no longer permits it */
	XDPFW_CLOSE_ROUTE_CHANGE,  /* its route moved to an interface whose zone pair no policy permits */
};

/* Where the firewall filter that logged ran; cached-* are verdicts replayed
 * from the session entry for established flows. */
enum xdpfw_filter_source {
	XDPFW_FILTER_NONE = 0,
	XDPFW_FILTER_INPUT,
	XDPFW_FILTER_OUTPUT,
	XDPFW_FILTER_PBR,
	XDPFW_FILTER_LO0,
	XDPFW_FILTER_CACHED_INPUT,
	XDPFW_FILTER_CACHED_OUTPUT,
	XDPFW_FILTER_CACHED_LO0,
};

/* The screen that fired; each has a fixed Junos attack name (lib/events/screens.ts). */
enum xdpfw_screen {
	XDPFW_SCREEN_NONE = 0,
	XDPFW_SCREEN_SYN_FLOOD,
	XDPFW_SCREEN_SYN_FLOOD_SRC_IP,
	XDPFW_SCREEN_UDP_FLOOD,
	XDPFW_SCREEN_ICMP_FLOOD,
	XDPFW_SCREEN_TCP_PORT_SCAN,
	XDPFW_SCREEN_IP_SWEEP,
	XDPFW_SCREEN_ICMP_FRAGMENT,
	XDPFW_SCREEN_SYN_FRAGMENT,
	XDPFW_SCREEN_IP_SPOOFING,
	XDPFW_SCREEN_SRC_IP_SESSION_LIMIT,
	XDPFW_SCREEN_DST_IP_SESSION_LIMIT,
	XDPFW_SCREEN_LAND,
	XDPFW_SCREEN_WINNUKE,
	XDPFW_SCREEN_TCP_NO_FLAG,
	XDPFW_SCREEN_TCP_SYN_FIN,
	XDPFW_SCREEN_TCP_FIN_NO_ACK,
	XDPFW_SCREEN_SYN_FLOOD_DST_IP,
	XDPFW_SCREEN_PING_OF_DEATH,
	XDPFW_SCREEN_TEARDROP,
	XDPFW_SCREEN_IP_SOURCE_ROUTE,
	XDPFW_SCREEN_IP_LOOSE_SOURCE_ROUTE,
	XDPFW_SCREEN_IP_STRICT_SOURCE_ROUTE,
	XDPFW_SCREEN_IP_RECORD_ROUTE,
	XDPFW_SCREEN_IP_TIMESTAMP,
	XDPFW_SCREEN_IP_SECURITY,
	XDPFW_SCREEN_IP_STREAM,
	XDPFW_SCREEN_IP_BAD_OPTION,               /* ip bad-option: a malformed IPv4 option list */
	XDPFW_SCREEN_IP_BLOCK_FRAG,               /* ip block-frag: every fragment */
	XDPFW_SCREEN_IP_UNKNOWN_PROTOCOL,         /* ip unknown-protocol */
	XDPFW_SCREEN_ICMP_LARGE,                  /* icmp large: ICMP packets over 1024 bytes */
	XDPFW_SCREEN_ICMPV6_MALFORMED,            /* icmp icmpv6-malformed */
	XDPFW_SCREEN_IPV6_EXTENSION_HEADER,       /* ip ipv6-extension-header: a header type it names */
	XDPFW_SCREEN_IPV6_EXTENSION_HEADER_LIMIT, /* ip ipv6-extension-header-limit */
	XDPFW_SCREEN_TCP_SWEEP,                   /* tcp tcp-sweep */
	XDPFW_SCREEN_UDP_SWEEP,                   /* udp udp-sweep */
	XDPFW_SCREEN_UDP_PORT_SCAN,               /* udp port-scan */
	XDPFW_SCREEN_TUNNEL_GRE_4IN4,             /* ip tunnel gre gre-4in4: IPv4 in GRE over IPv4 */
	XDPFW_SCREEN_TUNNEL_GRE_4IN6,
	XDPFW_SCREEN_TUNNEL_GRE_6IN4,
	XDPFW_SCREEN_TUNNEL_GRE_6IN6,
	XDPFW_SCREEN_TUNNEL_IPIP_4IN4,            /* ip tunnel ipip ipip-4in4: IPv4 in IPv4 */
	XDPFW_SCREEN_TUNNEL_IPIP_4IN6,
	XDPFW_SCREEN_TUNNEL_IPIP_6IN4,
	XDPFW_SCREEN_TUNNEL_IPIP_6IN6,
	XDPFW_SCREEN_TUNNEL_IPIP_6OVER4,          /* IPv6 in IPv4 multicast (RFC 2529) */
	XDPFW_SCREEN_TUNNEL_IPIP_6TO4RELAY,       /* IPv6 in IPv4 to or from a 6to4 address (2002::/16) */
	XDPFW_SCREEN_TUNNEL_IPIP_ISATAP,          /* IPv6 in IPv4 from an ISATAP address (RFC 5214) */
	XDPFW_SCREEN_TUNNEL_IPIP_DSLITE,          /* IPv4 in IPv6 (DS-Lite, RFC 6333) */
	XDPFW_SCREEN_TUNNEL_TEREDO,               /* ip tunnel ip-in-udp teredo: IPv6 in UDP port 3544 */
	XDPFW_SCREEN_TUNNEL_BAD_INNER_HEADER,     /* ip tunnel bad-inner-header */
	XDPFW_SCREEN_SYN_ACK_ACK_PROXY,           /* tcp syn-ack-ack-proxy: a SYN from a source holding too many handshake-only sessions */
	XDPFW_SCREEN_IPV6_MALFORMED_HEADER,       /* ip ipv6-malformed-header: a hop-by-hop header not first */
};

/* IPv6 extension header types, as bits of struct xdpfw_screen_profile's
 * ipv6_ext_headers (`ip ipv6-extension-header`). */
enum xdpfw_ipv6_ext {
	XDPFW_IPV6_EXT_HOP_BY_HOP = 1,
	XDPFW_IPV6_EXT_ROUTING = 2,
	XDPFW_IPV6_EXT_FRAGMENT = 4,
	XDPFW_IPV6_EXT_DESTINATION = 8,
	XDPFW_IPV6_EXT_AH = 16,
	XDPFW_IPV6_EXT_ESP = 32,
	XDPFW_IPV6_EXT_NO_NEXT = 64,
	XDPFW_IPV6_EXT_MOBILITY = 128,
	XDPFW_IPV6_EXT_HIP = 256,
	XDPFW_IPV6_EXT_SHIM6 = 512,
};

/*
 * Time: the slow path stores CLOCK_REALTIME in timestamp_ns and leaves
 * monotonic_ns 0; BPF has no realtime clock, so it stores bpf_ktime_get_ns()
 * (CLOCK_MONOTONIC) in monotonic_ns and leaves timestamp_ns 0, and the
 * decoder adds the realtime - monotonic offset it measures when it reads.
 * Addresses and ports are in network byte order, as in the session key
 * (IPv4 in src_addr[0]; ICMP echo identifier in place of a port).
 */
struct xdpfw_event {
	__u8 version;         /* XDPFW_EVENT_VERSION */
	__u8 kind;            /* enum xdpfw_event_kind */
	__u8 family;          /* AF_INET or AF_INET6 */
	__u8 protocol;        /* IANA protocol number */
	__u8 action;          /* enum xdpfw_event_action */
	__u8 close_reason;    /* enum xdpfw_close_reason */
	__u8 filter_source;   /* enum xdpfw_filter_source */
	__u8 icmp_type;
	__u16 src_port;
	__u16 dst_port;
	__u16 ingress_zone;   /* zone ids; 0: none */
	__u16 egress_zone;
	__u32 ingress_ifindex;
	__u32 egress_ifindex; /* 0: not known */
	__u32 policy_id;      /* as in the session entry (0 is the default policy) */
	__u32 filter_id;
	__u32 term_id;
	__u32 screen_id;      /* enum xdpfw_screen */
	__u32 elapsed_s;      /* session lifetime, SESSION_CLOSE */
	__u32 pad;
	__u64 timestamp_ns;   /* CLOCK_REALTIME, 0 from BPF */
	__u64 monotonic_ns;   /* CLOCK_MONOTONIC, 0 from the slow path */
	__u64 session_id;     /* 0: no session */
	__u64 packets_from_client;
	__u64 bytes_from_client;
	__u64 packets_from_server;
	__u64 bytes_from_server;
	__u32 src_addr[4];
	__u32 dst_addr[4];
};

/* ------------------------------------------------------------------- screens
 *
 * One profile per zone (`security screen ids-option`, written by
 * lib/screens/apply.ts), indexed by zone id. Rates are per second, windows
 * in microseconds, as Junos configures them; 0 turns a rate check off.
 */

enum xdpfw_screen_flags {
	XDPFW_SCREEN_ALARM_WITHOUT_DROP = 1, /* count and log, never drop */
	XDPFW_SCREEN_SYN_FLOOD_WHITE_LIST = 2, /* syn-flood white-list: xdpfw_screen_allow holds the zone's prefixes */
	XDPFW_SCREEN_UDP_FLOOD_WHITE_LIST = 4, /* udp flood white-list: xdpfw_screen_allow holds the zone's prefixes */
	XDPFW_SCREEN_IPV6_OPTIONS = 8, /* ipv6_hbh_options, ipv6_dst_options or ipv6_header_types hold a type */
};

/* syn-flood white-list: SYNs from a source or to a destination listed are
 * not counted by the SYN flood screens. One LPM entry per prefix; the
 * prefix length counts the zone, family and direction (32 bits) too. */
enum xdpfw_screen_allow_direction {
	XDPFW_SCREEN_ALLOW_SOURCE = 0,
	XDPFW_SCREEN_ALLOW_DESTINATION = 1,
	XDPFW_SCREEN_ALLOW_UDP_FLOOD = 2, /* udp flood white-list: UDP from or to the prefix is not counted */
};

struct xdpfw_screen_allow_key {
	__u32 prefixlen; /* 32 + the address prefix length */
	__u16 zone;
	__u8 family;     /* AF_INET or AF_INET6 */
	__u8 direction;  /* enum xdpfw_screen_allow_direction */
	__u32 addr[4];   /* IPv4 in addr[0] */
};

struct xdpfw_screen_profile {
	__u64 screens;         /* bit (1 << enum xdpfw_screen) of every screen turned on */
	__u32 flags;           /* enum xdpfw_screen_flags */
	__u32 syn_attack;      /* SYNs per second to one destination address and port; more are dropped */
	__u32 syn_alarm;       /* SYNs beyond syn_attack per second before they are logged */
	__u32 syn_source;      /* SYNs per second from one source address */
	__u32 syn_destination; /* SYNs per second to one destination address */
	__u32 icmp_flood;      /* ICMP packets per second to one destination address */
	__u32 udp_flood;       /* UDP packets per second to one destination address */
	__u32 port_scan_us;    /* window in which one source may reach XDPFW_SCAN_ITEMS ports */
	__u32 ip_sweep_us;     /* window in which one source may ping XDPFW_SCAN_ITEMS addresses */
	__u32 tcp_sweep_us;    /* ... send SYNs to XDPFW_SCAN_ITEMS addresses */
	__u32 udp_sweep_us;    /* ... send UDP to XDPFW_SCAN_ITEMS addresses */
	__u32 udp_port_scan_us; /* ... send UDP to XDPFW_SCAN_ITEMS ports */
	__u32 ipv6_ext_headers; /* enum xdpfw_ipv6_ext: the header types ipv6-extension-header drops */
	__u32 ipv6_ext_limit;  /* more extension headers than this are dropped (ipv6-extension-header-limit) */
	__u32 syn_ack_ack_proxy; /* handshake-only sessions one source may hold before its SYNs are dropped */
	__u32 pad;
	/* ipv6-extension-header, one bit per type number (bpf/ipv6_options.h):
	 * the option types hop-by-hop-header { ... } and destination-header { ... }
	 * name, and the header types user-defined-header-type names. */
	__u64 ipv6_hbh_options[4];
	__u64 ipv6_dst_options[4];
	__u64 ipv6_header_types[4];
};

/* Key of xdpfw_proxy_pending: one source address in the zone its sessions came from. */
struct xdpfw_proxy_key {
	__u16 zone;
	__u8 family;
	__u8 pad;
	__u32 addr[4]; /* IPv4 in addr[0] */
};

/* Per-CPU counters of one (zone, screen), at zone * XDPFW_SCREEN_SLOTS + screen. */
struct xdpfw_screen_counter {
	__u64 drops;
	__u64 alarms;            /* alarm-without-drop: the packet went on */
	__u64 events_suppressed; /* over the screen-drop event budget (bpf/events.h): counted, not logged */
};

#ifdef __bpf__
/* Userspace reads the record and its enums from BTF (lib/events/record.ts),
 * whether or not a program emits events yet. This header has one includer
 * (xdpfw.bpf.c, through parse.h), so these are defined once. */
struct xdpfw_event xdpfw_btf_event __attribute__((unused));
enum xdpfw_event_kind xdpfw_btf_event_kind __attribute__((unused));
enum xdpfw_event_action xdpfw_btf_event_action __attribute__((unused));
enum xdpfw_close_reason xdpfw_btf_close_reason __attribute__((unused));
enum xdpfw_filter_source xdpfw_btf_filter_source __attribute__((unused));
enum xdpfw_screen xdpfw_btf_screen __attribute__((unused));
enum xdpfw_screen_flags xdpfw_btf_screen_flags __attribute__((unused));
enum xdpfw_ipv6_ext xdpfw_btf_ipv6_ext __attribute__((unused));
enum xdpfw_screen_allow_direction xdpfw_btf_screen_allow_direction __attribute__((unused));
struct xdpfw_screen_allow_key xdpfw_btf_screen_allow_key __attribute__((unused));
struct xdpfw_proxy_key xdpfw_btf_proxy_key __attribute__((unused));
enum xdpfw_filter_action xdpfw_btf_filter_action __attribute__((unused));
enum xdpfw_filter_flags xdpfw_btf_filter_flags __attribute__((unused));
struct xdpfw_route_query xdpfw_btf_route_query __attribute__((unused));
enum xdpfw_route_flags xdpfw_btf_route_flags __attribute__((unused));
enum xdpfw_rx_meta_flags xdpfw_btf_rx_meta_flags __attribute__((unused));
#endif

#endif
