// SPDX-License-Identifier: MIT
/*
 * xdpfw fast path.
 *
 *   xdpfw_rx      attached to every firewall interface: the ingress zone's
 *                 screens drop attacks first (screens.h); established
 *                 sessions are forwarded here, their TCP state tracked
 *                 (tcp_state.h), their cached filter verdicts replayed or,
 *                 for per-packet terms, their residual filter programs run
 *                 (filter_terms.h); misses go to the AF_XDP socket of the
 *                 receiving queue (the slow path), TCP only when they could
 *                 open a connection (syn-check). Later IP fragments follow
 *                 their first one (fragments.h). Zones with screens have them
 *                 run first (xdpfw_screens, then xdpfw_session).
 *   xdpfw_inject  run by the slow path through BPF_PROG_RUN (live frames)
 *                 for a packet of an established session it was handed
 *                 (a cached reject, a race with the installation): the
 *                 same forwarding code as the fast path,
 *                 cached filter verdicts included.
 *   xdpfw_inject_new
 *                 the same for the first packet of a session the slow path
 *                 has just installed: it has run the filters itself, so the
 *                 cached verdicts route the packet but are not replayed (no
 *                 second count or log). Run plain, its output is what the
 *                 slow path sends from the egress AF_XDP socket; run with
 *                 live frames when the kernel must finish the job. Either
 *                 way the first packet leaves byte-identical to the ones
 *                 after it, and it is never dropped.
 *   xdpfw_route   run by the slow path through plain BPF_PROG_RUN to learn
 *                 where a packet would go (egress interface, or local), in
 *                 the routing table the query in front of the frame names.
 *   xdpfw_icmp_error
 *                 tail-called by xdpfw_rx for an ICMP / ICMPv6 error: sends
 *                 it along the session of the packet it quotes, or drops it
 *                 (icmp_error.h). Errors never reach the slow path.
 *
 * All are loaded as xdp.frags (BPF_F_XDP_HAS_FRAGS): jumbo frames arrive as
 * multi-buffer frames, and a driver refuses a program without the flag on a
 * link whose MTU needs more than one buffer. Headers are read from the
 * linear part; lengths and counters take the whole frame. A multi-buffer
 * frame is redirected (devmap, AF_XDP) like any other; the slow path's
 * sockets take it in several UMEM frames (XDP_USE_SG).
 */
#include "parse.h"
#include "events.h"
#include "screens.h"
#include "fragments.h"
#include "verify.h"
#include "icmp_error.h"
#include "filter_terms.h"
#include "vlan_units.h"
#include "drop_monitor.h"
#include "iface_cache.h"
#include "neigh_proxy.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_SESSION_ENTRIES);
	__type(key, struct xdpfw_flow_key);
	__type(value, struct xdpfw_session);
} xdpfw_sessions SEC(".maps");

#include "session_entry.h"
#include "nat_translate.h"

/* The sessions' cached filter verdicts, shared by the flows judged alike
 * (struct xdpfw_verdict_row); written by the daemon only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_VERDICT_ROWS);
	__type(key, __u32);
	__type(value, struct xdpfw_verdict_row);
} xdpfw_verdict_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_IFACES);
	__type(key, __u32); /* ifindex */
	__type(value, struct xdpfw_iface);
} xdpfw_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XDPFW_MAX_IFACES * XDPFW_MAX_QUEUES);
	__type(key, __u32); /* slot * XDPFW_MAX_QUEUES + rx queue */
	__type(value, __u32);
} xdpfw_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XDPFW_MAX_IFACES);
	__type(key, __u32); /* ifindex */
	__type(value, __u32);
} xdpfw_tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPFW_CNT__MAX);
	__type(key, __u32);
	__type(value, struct xdpfw_counter_value);
} xdpfw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_meta);
} xdpfw_meta SEC(".maps");

/* `count C` of the firewall filters, for the packets XDP replays a cached
 * verdict on; the slow path counts the packets it judges itself. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPFW_MAX_FILTER_COUNTERS);
	__type(key, __u32);
	__type(value, struct xdpfw_counter_value);
} xdpfw_filter_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XDPFW_TAIL__MAX);
	__type(key, __u32); /* enum xdpfw_tail_call */
	__type(value, __u32);
} xdpfw_tail_calls SEC(".maps");

/* Keep the shared layouts in BTF even where no map names them. */
struct xdpfw_route_result xdpfw_btf_route_result __attribute__((unused));
struct xdpfw_rx_meta xdpfw_btf_rx_meta __attribute__((unused));
enum xdpfw_counter xdpfw_btf_counter __attribute__((unused));
enum xdpfw_nat_flags xdpfw_btf_nat_flags __attribute__((unused));
enum xdpfw_constants xdpfw_btf_constants __attribute__((unused));
enum xdpfw_session_flags xdpfw_btf_session_flags __attribute__((unused));
enum xdpfw_egress_kept xdpfw_btf_egress_kept __attribute__((unused));
enum xdpfw_tcp_state xdpfw_btf_tcp_state __attribute__((unused));
enum xdpfw_close_flags xdpfw_btf_close_flags __attribute__((unused));
enum xdpfw_tcp_dir_flags xdpfw_btf_tcp_dir_flags __attribute__((unused));
enum xdpfw_tcp_settings_flags xdpfw_btf_tcp_settings_flags __attribute__((unused));
struct xdpfw_tcp_settings xdpfw_btf_tcp_settings __attribute__((unused));
enum xdpfw_tail_call xdpfw_btf_tail_call __attribute__((unused));
enum xdpfw_iface_flags xdpfw_btf_iface_flags __attribute__((unused));
struct xdpfw_vlan_unit_key xdpfw_btf_vlan_unit_key __attribute__((unused));
enum vlan_step xdpfw_btf_vlan_step __attribute__((unused));

/* Every verdict is counted here; every drop is also shown to a packet-drop
 * watcher, with `detail` (drop_monitor.h). */
/* A global function: verified once, not at each of the many verdicts that
 * call it (xdpfw_rx is close to the verifier's instruction limit). */
__noinline int xdpfw_count_verdict(struct xdp_md *ctx, __u32 idx, int verdict, __u32 detail)
{
	if (!ctx)
		return 0;
	struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += frame_len(ctx);
	}
	if (verdict == XDP_DROP && drop_monitor_watched())
		drop_monitor_record(ctx, idx, detail);
	return 0;
}

static __always_inline int count_detail(__u32 idx, struct xdp_md *ctx, int verdict, __u32 detail)
{
	xdpfw_count_verdict(ctx, idx, verdict, detail);
	return verdict;
}

static __always_inline int count(__u32 idx, struct xdp_md *ctx, int verdict)
{
	return count_detail(idx, ctx, verdict, 0);
}

/* A frame sent up to the slow path, counted as it arrived: without the
 * metadata write_rx_meta() put in front of it. */
__noinline int xdpfw_count_sent_up(struct xdp_md *ctx, __u32 idx)
{
	if (!ctx)
		return 0;
	struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += frame_len(ctx) - sizeof(struct xdpfw_rx_meta);
	}
	return 0;
}

/* Fills the lookup for pkt; a table_id other than 0 looks up that routing
 * table only (policy-based routing), 0 follows the kernel's rules. Returns
 * the bpf_fib_lookup() flags to use. */
static __always_inline __u32 fib_params_from(struct packet *pkt, struct xdp_md *ctx,
					     struct bpf_fib_lookup *fib, __u32 table_id)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = pkt->key.protocol;
	fib->sport = pkt->key.src_port;
	fib->dport = pkt->key.dst_port;
	fib->tot_len = pkt->l3_len;
	if (pkt->ip4) {
		fib->family = AF_INET;
		fib->tos = pkt->ip4->tos;
		/* From the header: a translated packet's addresses are not its tuple's. */
		fib->ipv4_src = pkt->ip4->saddr;
		fib->ipv4_dst = pkt->ip4->daddr;
	} else if (pkt->ip6) {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, &pkt->ip6->saddr, 16);
		__builtin_memcpy(fib->ipv6_dst, &pkt->ip6->daddr, 16);
	}
	if (!table_id)
		return 0;
	fib->tbid = table_id;
	return BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
}

/* RFC 1624 incremental update for the TTL decrement. */
static __always_inline void ipv4_decrement_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;
	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

struct path {
	__u32 forward, local, kernel; /* counters */
	int replay;                   /* replay the cached filter verdicts */
	int egress_cache;             /* the packet carries the session's own tuple: its kept egress
	                               * (egress_cache.h) is used and written; and is translated
	                               * as its session is (NAT) */
};

static const struct path FAST_PATH = {
	XDPFW_CNT_FAST_FORWARD, XDPFW_CNT_FAST_LOCAL, XDPFW_CNT_FAST_KERNEL, 1, 1
};
static const struct path INJECT_PATH = {
	XDPFW_CNT_INJECT_FORWARD, XDPFW_CNT_INJECT_LOCAL, XDPFW_CNT_INJECT_KERNEL, 1, 1
};
static const struct path INJECT_NEW_PATH = {
	XDPFW_CNT_INJECT_FORWARD, XDPFW_CNT_INJECT_LOCAL, XDPFW_CNT_INJECT_KERNEL, 0, 1
};
/* ICMP errors along the session of the packet they quote (icmp_error.h):
 * the error's own addresses are routed, not the session's. */
static const struct path ICMP_ERROR_PATH = {
	XDPFW_CNT_ICMP_ERROR_FORWARD, XDPFW_CNT_ICMP_ERROR_LOCAL, XDPFW_CNT_FAST_KERNEL, 1, 0
};

static __always_inline int box_connection(struct xdp_md *ctx, const struct xdpfw_session_key *key);
#include "tcp_state.h"

/* forward_session(): the packet goes to the slow path (a cached reject,
 * which needs an answer XDP does not build). */
#define FORWARD_TO_SLOW_PATH (-2)
/* replay_filter(): the verdict lets the packet go on. */
#define FILTER_GOES_ON (-1)
/* forward_session(): the route now leaves by another interface than the one
 * the session's policy was checked for; the slow path checks it again. */
#define ROUTE_CHANGED (-3)
/* forward_session(): larger than the egress MTU and not to be fragmented on
 * the way; pkt->egress_mtu says how large it may be. Not forwarded: the
 * source is to be told (fragmentation-needed / packet-too-big). */
#define FORWARD_TOO_BIG (-4)

/* Direction dir's cached filter verdicts, from the session's row; NULL
 * only for a row number past the table (never written so: dropped). */
static __always_inline const struct xdpfw_direction_verdicts *
verdicts_of(const struct xdpfw_session *sess, __u8 dir_of_packet)
{
	__u32 row = sess->verdicts;
	const struct xdpfw_verdict_row *r = bpf_map_lookup_elem(&xdpfw_verdict_rows, &row);
	if (!r)
		return NULL;
	/* An offset, not a branch: one pointer state for the verifier to
	 * follow instead of two (each doubling the paths after it). */
	__u64 dir = dir_of_packet & 1;
	asm volatile("" : "+r"(dir));
	return (const void *)r + dir * sizeof(struct xdpfw_direction_verdicts);
}

/* Enforces, counts and logs one cached filter verdict on a packet of an
 * established session, as the slow path did on the first packet; its log
 * events within the filter-log budget of the ingress zone. */
static __always_inline int replay_filter(struct xdp_md *ctx, struct packet *pkt,
					 const struct xdpfw_session *sess, int output, __u8 source,
					 __u32 egress_ifindex)
{
	__u32 policer = 0;
	/* Row 0: no filter anywhere, nothing to look up. */
	if (!sess->verdicts)
		return FILTER_GOES_ON;
	/* Looked up where it is used: a pointer kept across the calls before
	 * would cost xdpfw_rx a stack slot it does not have. */
	const struct xdpfw_direction_verdicts *fv = verdicts_of(sess, pkt->dir);
	if (!fv)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
	const struct xdpfw_filter_verdict *v = output ? &fv->output : &fv->input;
	if (!v->filter_id)
		return FILTER_GOES_ON;
	if (v->program) {
		/* Per-packet terms: this packet's own verdict (bpf/filter_terms.h). */
		__u32 table_id = v->table_id;
		const struct xdpfw_filter_term *t = run_filter_program(v->program, pkt);
		if (!t)
			return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
		v = &t->verdict;
		policer = t->policer;
		/* The flow was routed (and its zones judged) by the table of its
		 * first packet's verdict; another one could change the egress. */
		if (source == XDPFW_FILTER_CACHED_INPUT && v->action == XDPFW_FILTER_ACTION_ACCEPT &&
		    v->table_id != table_id)
			return count(XDPFW_CNT_DROP_FILTER_TABLE, ctx, XDP_DROP);
	}
	/* The slow path answers, counts and logs a reject. */
	if (v->action == XDPFW_FILTER_ACTION_REJECT)
		return FORWARD_TO_SLOW_PATH;
	if (v->counter) {
		__u32 idx = v->counter;
		struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_filter_counters, &idx);
		if (c) {
			c->packets++;
			c->bytes += pkt->l3_len;
		}
	}
	if (v->flags & (XDPFW_FILTER_FLAG_LOG | XDPFW_FILTER_FLAG_SYSLOG)) {
		emit_budgeted_event(ctx, &xdpfw_counters, &pkt->key, &(struct xdpfw_event_facts){
			.kind = XDPFW_EVENT_FILTER_LOG,
			.action = v->action == XDPFW_FILTER_ACTION_DISCARD ? XDPFW_ACTION_DISCARD
									   : XDPFW_ACTION_ACCEPT,
			.filter_source = source,
			.filter_id = v->filter_id,
			.term_id = v->term_id,
			.session_id = sess->session_id,
			/* The zones the slow path judged the first packet in. */
			.ingress_zone = *session_at(const __u16, sess, zone, pkt->dir),
			.egress_zone = *session_at(const __u16, sess, zone, session_other(pkt->dir)),
			.egress_ifindex = egress_ifindex,
			.icmp_type = pkt->icmp_type,
		});
	}
	if (v->action == XDPFW_FILTER_ACTION_DISCARD)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
	/* `then policer`: counted and logged as the term's, beyond the bucket discarded. */
	if (policer && !xdpfw_police(policer, pkt->l3_len))
		return count(XDPFW_CNT_DROP_POLICER, ctx, XDP_DROP);
	return FILTER_GOES_ON;
}

/* Hands a packet of a forwarded session to the kernel (tagged frame, next hop
 * not resolved, MTU exceeded, egress not ours) after enforcing its output
 * verdict. A session routed by a routing instance is never handed over: the
 * kernel would route it by its own tables, not the instance's. */
static __always_inline int to_kernel(struct xdp_md *ctx, struct packet *pkt,
				     struct xdpfw_session *sess, const struct path *path,
				     __u32 egress_ifindex)
{
	if (sess->verdicts) {
		const struct xdpfw_direction_verdicts *fv = verdicts_of(sess, pkt->dir);
		if (!fv || fv->input.table_id)
			return count(XDPFW_CNT_DROP_PBR_KERNEL, ctx, XDP_DROP);
	}
	if (path->replay) {
		int verdict = replay_filter(ctx, pkt, sess, 1, XDPFW_FILTER_CACHED_OUTPUT,
					    egress_ifindex);
		if (verdict != FILTER_GOES_ON)
			return verdict;
	}
	return count(path->kernel, ctx, XDP_PASS);
}

/* What forward_session() needs of a route lookup. */
struct next_hop {
	__u32 ifindex;
	__u16 mtu; /* BPF_FIB_LKUP_RET_FRAG_NEEDED: the egress MTU */
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

#include "egress_cache.h"

/* The route of an established session's packet: the egress kept in its
 * entry while that holds (egress_cache.h), else a lookup, kept for the
 * packets after it when it succeeds along the session's egress. A call of
 * its own, so the lookup's 64-byte argument is not on the stack of the
 * programs that also call into the TCP tracking (the verifier's 512-byte
 * limit spans calls); one return code either way, so its callers' paths
 * are what they were. */
static __noinline int next_hop_of(struct xdp_md *ctx, struct packet *pkt,
				  struct xdpfw_session *sess, int cache, struct next_hop *out)
{
	__u32 table_id = 0;
	if (sess->verdicts) {
		const struct xdpfw_direction_verdicts *fv = verdicts_of(sess, pkt->dir);
		if (!fv) /* a row past the table: dropped */
			return BPF_FIB_LKUP_RET_PROHIBIT;
		table_id = fv->input.table_id;
	}
	__u32 lease_flags = 0;
	__u32 g = cache ? route_generation(bpf_ktime_get_coarse_ns(), &lease_flags) : 0;
	__u32 out_ifindex = *session_at(__u32, sess, ingress_ifindex, session_other(pkt->dir));
	if (egress_fits(sess, pkt, g, lease_flags, out_ifindex, out->smac)) {
		out->ifindex = out_ifindex;
		__builtin_memcpy(out->dmac, session_at(__u8, sess, egress.dmac, pkt->dir), ETH_ALEN);
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	if (g) {
		__u32 idx = XDPFW_CNT_EGRESS_LOOKUP;
		struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_counters, &idx);
		if (c) {
			c->packets++;
			c->bytes += pkt->l3_len;
		}
	}
	struct bpf_fib_lookup fib;
	__u32 fib_flags = fib_params_from(pkt, ctx, &fib, table_id);
	int rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), fib_flags);
	out->ifindex = fib.ifindex;
	out->mtu = fib.mtu_result; /* on success too: the route's MTU */
	__builtin_memcpy(out->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(out->smac, fib.smac, ETH_ALEN);
	if (g && rc == BPF_FIB_LKUP_RET_SUCCESS && fib.ifindex == out_ifindex)
		egress_keep(sess, pkt, g, fib.ifindex, fib.mtu_result, fib.dmac, fib.smac);
	return rc;
}

/* Forward a packet of a known session: the one forwarding routine shared by
 * the fast path and the slow path's re-injection. */
static __always_inline int forward_session(struct xdp_md *ctx, struct packet *pkt,
					   struct xdpfw_session *sess,
					   const struct path *path)
{
	int verdict;
	/* A translated session's packet is rewritten first: its route is the
	 * translated destination's. ICMP errors were rewritten by their program. */
	if (path->egress_cache && sess->flags & XDPFW_SESS_NAT) {
		int translated = xdpfw_nat_translate(ctx, &pkt->key, nat_where(pkt));
		if (translated == NAT_BAD_FRAME)
			return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
		if (translated != NAT_TRANSLATED)
			return count(XDPFW_CNT_DROP_NAT_NO_TRANSLATION, ctx, XDP_DROP);
	}
	/* The route first, before anything is counted: a packet whose route
	 * moved goes to the slow path and comes back through here. */
	struct next_hop fib;
	int rc = 0, looked_up = 0; /* no lookup: local, tagged or expiring (below) */
	if (!(sess->flags & XDPFW_SESS_LOCAL) && !pkt->vlan_tags &&
	    !((pkt->ip4 && pkt->ip4->ttl <= 1) || (pkt->ip6 && pkt->ip6->hop_limit <= 1))) {
		rc = next_hop_of(ctx, pkt, sess, path->egress_cache, &fib);
		looked_up = 1;
		/* Another egress may be another zone: never forwarded there unchecked. */
		if ((rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) &&
		    !route_unchanged(sess, pkt->dir, fib.ifindex))
			return ROUTE_CHANGED;
	}
	__u32 in_program = 0, out_program = 0;
	if (sess->verdicts) {
		const struct xdpfw_direction_verdicts *fv = verdicts_of(sess, pkt->dir);
		if (!fv)
			return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
		in_program = fv->input.program;
		out_program = fv->output.program;
	}
	if (path->replay) {
		/* Terms too many for XDP: the slow path judges the packet, before
		 * anything here counts it. */
		if (in_program >= XDPFW_FILTER_PROGRAM_SLOW_PATH ||
		    out_program >= XDPFW_FILTER_PROGRAM_SLOW_PATH)
			return count(XDPFW_CNT_FILTER_PROGRAM_SLOW_PATH, ctx, FORWARD_TO_SLOW_PATH);
		verdict = replay_filter(ctx, pkt, sess, 0, XDPFW_FILTER_CACHED_INPUT, 0);
		if (verdict != FILTER_GOES_ON)
			return verdict;
	} else if (first_packet_exceeds(in_program, pkt) ||
		   first_packet_exceeds(out_program, pkt)) {
		/* The slow path judged this first packet; its policers are XDP's buckets. */
		return count(XDPFW_CNT_DROP_POLICER, ctx, XDP_DROP);
	}
	__sync_fetch_and_add(session_at(__u64, sess, packets, pkt->dir), 1);
	__sync_fetch_and_add(session_at(__u64, sess, bytes, pkt->dir), pkt->l3_len);
	/* The coarse clock (CLOCK_MONOTONIC_COARSE, one tick behind at most)
	 * costs a fraction of the precise one; idle timeouts are in seconds. */
	sess->last_seen_ns = bpf_ktime_get_coarse_ns();

	if (sess->flags & XDPFW_SESS_LOCAL) {
		/* To the box itself: the lo0 filter is this direction's output. */
		if (path->replay) {
			verdict = replay_filter(ctx, pkt, sess, 1, XDPFW_FILTER_CACHED_LO0, 0);
			if (verdict != FILTER_GOES_ON)
				return verdict;
		}
		return count(path->local, ctx, XDP_PASS);
	}
	/* Tagged frames: the kernel knows the sub-interface. Expiring TTLs: the
	 * kernel sends the ICMP time-exceeded (nothing is forwarded). */
	if (pkt->vlan_tags)
		return to_kernel(ctx, pkt, sess, path, 0);
	if (!looked_up || (pkt->ip4 && pkt->ip4->ttl <= 1) || (pkt->ip6 && pkt->ip6->hop_limit <= 1))
		return count(path->kernel, ctx, XDP_PASS);

	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		/* Now addressed to the box: never past the lo0 checks on a
		 * session that was judged for forwarding. */
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return count(XDPFW_CNT_DROP_NO_ROUTE, ctx, XDP_DROP);
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		if (!icmp_too_big_due(pkt))
			return to_kernel(ctx, pkt, sess, path, 0); /* the kernel fragments it */
		/* A packet the output filter discards earns no answer. */
		if (path->replay) {
			verdict = replay_filter(ctx, pkt, sess, 1, XDPFW_FILTER_CACHED_OUTPUT, 0);
			if (verdict != FILTER_GOES_ON)
				return verdict;
		}
		pkt->egress_mtu = fib.mtu;
		return FORWARD_TOO_BIG;
	default: /* no neighbour yet, MTU exceeded, ...: the kernel resolves it */
		return to_kernel(ctx, pkt, sess, path, fib.ifindex);
	}
	/* Only egress ports we manage can take a redirect: the devmap lookup
	 * the redirect makes anyway says so (XDP_PASS when it is not there). */
	if (bpf_redirect_map(&xdpfw_tx_ports, fib.ifindex, XDP_PASS) != XDP_REDIRECT)
		return to_kernel(ctx, pkt, sess, path, fib.ifindex);
	if (path->replay) {
		verdict = replay_filter(ctx, pkt, sess, 1, XDPFW_FILTER_CACHED_OUTPUT,
					fib.ifindex);
		if (verdict != FILTER_GOES_ON)
			return verdict;
	}

	if (pkt->ip4)
		ipv4_decrement_ttl(pkt->ip4);
	else if (pkt->ip6) /* re-tested: the verifier loses the pairing on the stack */
		pkt->ip6->hop_limit--;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return count(path->forward, ctx, XDP_REDIRECT);
}

#include "flood_meter.h"

/* Hand the parse result to userspace in front of the frame (see struct
 * xdpfw_rx_meta): prepended with bpf_xdp_adjust_head(), which every kernel
 * offers XDP (bpf_xdp_adjust_meta() is not offered by every build); the
 * socket strips it (the Xsk's rxPrefix). Fails only without headroom.
 * Invalidates the packet pointers in *pkt. */
static __always_inline int write_rx_meta(struct xdp_md *ctx, struct packet *pkt)
{
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct xdpfw_rx_meta)))
		return -1;
	struct xdpfw_rx_meta *meta = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > (void *)(long)ctx->data_end)
		return -1;
	meta->family = pkt->key.family;
	meta->protocol = pkt->key.protocol;
	meta->tcp_flags = pkt->tcp_flags;
	meta->icmp_type = pkt->icmp_type;
	meta->l3_offset = pkt->l3_offset;
	meta->l3_len = pkt->l3_len;
	meta->src_port = pkt->key.src_port;
	meta->dst_port = pkt->key.dst_port;
	meta->icmp_code = pkt->icmp_code;
	/* The only fragments without their head sent up are held ones. */
	meta->flags = pkt->flags & PKT_FRAGMENT && !(pkt->flags & PKT_FRAGMENT_HEAD)
			      ? XDPFW_RX_META_LATER_FRAGMENT : 0;
	meta->mtu = pkt->egress_mtu;
	meta->rx_ns = bpf_ktime_get_ns();
	return 0;
}

/* To the slow path, counted as `counter` once it is there, within the flood
 * meters (flood_meter.h); first_packet: it would open a flow. */
static __always_inline int to_slow_path_as(struct xdp_md *ctx, struct packet *pkt,
					   const struct xdpfw_iface *iface, __u32 counter,
					   int first_packet)
{
	if (!iface || ctx->rx_queue_index >= XDPFW_MAX_QUEUES)
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	__u32 key = iface->slot * XDPFW_MAX_QUEUES + ctx->rx_queue_index;
	/* Fail closed: with no socket on this queue nobody could judge it. */
	if (!bpf_map_lookup_elem(&xdpfw_xsks, &key))
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	__u32 shed = xdpfw_flood_meter(ctx, &pkt->key, first_packet,
				       pkt->key.protocol == IPPROTO_TCP && pkt->tcp_flags & TCP_FLAG_SYN,
				       pkt->icmp_type);
	if (shed) {
		/* Its later fragments must not wait for a first one that never went up. */
		if (pkt->flags & PKT_FRAGMENT_HEAD)
			fragment_note_first(pkt, xdpfw_ingress_ifindex(ctx), XDPFW_FRAGMENT_REFUSED);
		return count(shed, ctx, XDP_DROP);
	}
	/* Too big to forward: sent up to be answered (icmp_error.h). */
	__u32 count_as = counter;
	if (pkt->egress_mtu) {
		__u32 dropped = too_big_send_up(ctx, pkt);
		if (dropped)
			return count(dropped, ctx, XDP_DROP);
		count_as = XDPFW_CNT_MTU_EXCEEDED;
	}
	if (frame_len(ctx) > XDPFW_SLOW_PATH_MAX_FRAME)
		return count(XDPFW_CNT_DROP_TOO_BIG, ctx, XDP_DROP);
	if (write_rx_meta(ctx, pkt))
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	int verdict = bpf_redirect_map(&xdpfw_xsks, key, XDP_DROP);
	if (verdict != XDP_REDIRECT)
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, verdict);
	xdpfw_count_sent_up(ctx, count_as);
	return XDP_REDIRECT;
}

/* A packet of a known flow (or held behind one) the fast path cannot finish. */
static __always_inline int to_slow_path(struct xdp_md *ctx, struct packet *pkt,
					const struct xdpfw_iface *iface)
{
	return to_slow_path_as(ctx, pkt, iface, XDPFW_CNT_SLOW_PATH, 0);
}

/* A packet that would open a flow. */
static __always_inline int to_slow_path_new(struct xdp_md *ctx, struct packet *pkt,
					    const struct xdpfw_iface *iface)
{
	return to_slow_path_as(ctx, pkt, iface, XDPFW_CNT_SLOW_PATH, 1);
}

/* Verdicts for what the parser alone decides; -1 when the packet goes on
 * (fragments too: see later_fragment()). */
static __always_inline int parse_verdict(struct xdp_md *ctx, int parsed)
{
	switch (parsed) {
	case PARSE_OK:
	case PARSE_FRAGMENT:
		return -1;
	case PARSE_NON_IP:
		return count(XDPFW_CNT_PASS_NON_IP, ctx, XDP_PASS);
	case PARSE_NEIGHBOR:
		return count(XDPFW_CNT_PASS_NEIGHBOR, ctx, XDP_PASS);
	default:
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	}
}

/* later_fragment(): held for the slow path while its first one is judged. */
#define FRAGMENT_TO_SLOW_PATH (-5)

/* A re-injected packet too big for its egress link: the kernel answers, as
 * it does for every packet it forwards (it was filtered on the way here),
 * unless a routing instance routes the session, which the kernel would not. */
static __always_inline int too_big_to_kernel(struct xdp_md *ctx, const struct packet *pkt,
					     const struct xdpfw_session *sess, const struct path *path)
{
	if (sess->verdicts) {
		const struct xdpfw_direction_verdicts *fv = verdicts_of(sess, pkt->dir);
		if (!fv || fv->input.table_id)
			return count(XDPFW_CNT_DROP_PBR_KERNEL, ctx, XDP_DROP);
	}
	return count(path->kernel, ctx, XDP_PASS);
}

/* A fragment without its transport header, forwarded along the session its
 * first fragment was (fragments.h). Only xdpfw_rx (may_hold) hands one to
 * the slow path; one re-injected while its first is still unjudged drops. */
static __always_inline int later_fragment(struct xdp_md *ctx, struct packet *pkt,
					  const struct path *path, int may_hold, __u32 ifindex)
{
	/* ifindex: the caller's copy of ctx->ingress_ifindex; read again here,
	 * the compiler may keep a pointer into ctx the verifier refuses. */
	switch (fragment_follow(pkt, ifindex, may_hold)) {
	case FRAGMENT_FOLLOW:
		break;
	case FRAGMENT_HOLD:
		return FRAGMENT_TO_SLOW_PATH;
	case FRAGMENT_NO_FIRST:
		return count(XDPFW_CNT_DROP_FRAGMENT_NO_FIRST, ctx, XDP_DROP);
	default:
		return count(XDPFW_CNT_DROP_FRAGMENT, ctx, XDP_DROP);
	}
	struct xdpfw_session *sess = session_lookup(&pkt->key, &pkt->dir);
	if (!sess)
		return count(XDPFW_CNT_DROP_FRAGMENT_NO_SESSION, ctx, XDP_DROP);
	int verdict = forward_session(ctx, pkt, sess, path);
	/* A cached reject is answered for the first fragment only. */
	if (verdict == FORWARD_TO_SLOW_PATH)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
	/* Rerouted: only a packet with ports can have the new zone pair
	 * judged; this one is dropped, never forwarded unchecked. */
	if (verdict == ROUTE_CHANGED)
		return count(XDPFW_CNT_DROP_REROUTED, ctx, XDP_DROP);
	/* Too big: xdpfw_rx sends it up to be answered; translated, it is
	 * no packet the slow path knows. */
	if (verdict == FORWARD_TOO_BIG && sess->flags & XDPFW_SESS_NAT)
		return count(XDPFW_CNT_DROP_NAT_SLOW_PATH, ctx, XDP_DROP);
	if (verdict == FORWARD_TOO_BIG && !may_hold)
		return too_big_to_kernel(ctx, pkt, sess, path);
	return verdict;
}

/* Whether the zone's profile turns any screen on. */
static __always_inline int zone_has_screens(__u32 zone)
{
	struct xdpfw_screen_profile *p = bpf_map_lookup_elem(&xdpfw_screen_profiles, &zone);
	return p && p->screens;
}

/* What screen_verdict() leaves to its caller. */
#define SCREEN_LOGGED 1  /* the SCREEN_DROP event fits in its budget */
#define SCREEN_WATCHED 2 /* a packet-drop watcher is attached: record the drop */

/*
 * Everything a screen's verdict counts, without a call: the zone's screen
 * counters and event budget (screen_account()), and for a drop the
 * verdict's counter, as count_detail() would. The frame's length is asked
 * for once, for all of them (the helper call costs as much as the rest).
 * The event and the drop record, rare, are left to the caller
 * (SCREEN_LOGGED, SCREEN_WATCHED).
 */
static __always_inline int screen_verdict(struct xdp_md *ctx, __u32 zone, __u32 screen, __u32 log, __u32 alarm)
{
	__u32 len = frame_len(ctx);
	int logged = screen_account(zone, screen, log, alarm, len) ? SCREEN_LOGGED : 0;
	if (alarm)
		return logged;
	__u32 idx = XDPFW_CNT_DROP_SCREEN;
	struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return logged | (drop_monitor_watched() ? SCREEN_WATCHED : 0);
}

/* The ingress zone's screens; -1 when the packet goes on (nothing tripped,
 * or alarm-without-drop). */
static __always_inline int screen_packet_in_zone(struct xdp_md *ctx, const struct packet *pkt, __u32 zone)
{
	struct xdpfw_screen_profile *p = bpf_map_lookup_elem(&xdpfw_screen_profiles, &zone);
	if (!p || !p->screens)
		return -1;
	struct screen_hit hit = { .screen = XDPFW_SCREEN_NONE, .log = 1 };
	if (p->screens & SCREEN_BIT(XDPFW_SCREEN_IP_SPOOFING) && source_spoofed(ctx, pkt))
		hit.screen = XDPFW_SCREEN_IP_SPOOFING;
	else
		hit = screen_check(ctx, pkt, zone, p, (void *)(long)ctx->data_end);
	if (!hit.screen)
		return -1;
	int alarm = p->flags & XDPFW_SCREEN_ALARM_WITHOUT_DROP;
	int done = screen_verdict(ctx, zone, hit.screen, hit.log, alarm);
	if (done & SCREEN_LOGGED)
		screen_event(ctx, &xdpfw_counters, pkt, zone, hit, alarm);
	if (done & SCREEN_WATCHED)
		drop_monitor_record(ctx, XDPFW_CNT_DROP_SCREEN, hit.screen);
	return alarm ? -1 : XDP_DROP;
}

/*
 * The zone's screens on a parsed packet: -1 to go on, else the verdict. A
 * global function, verified once: as a static subprogram it was verified
 * again for every distinct state its callers reached it in (over a hundred
 * in xdpfw_rx, half of the program's verifier budget). Packet pointers do
 * not cross into a global function: the screens find the headers again
 * from the offsets the parse recorded (screen_l3(), screen_tunnel()).
 */
__noinline int xdpfw_run_screens(struct xdp_md *ctx, const struct packet *pkt, __u32 zone)
{
	if (!ctx || !pkt)
		return -1;
	return screen_packet_in_zone(ctx, pkt, zone);
}

/* Everything after the screens, for a packet the parser accepted (OK or a
 * fragment): ICMP errors, fragments, the session, TCP, forwarding. */
static __always_inline int session_stage(struct xdp_md *ctx, struct packet *pkt, int parsed,
					 const struct xdpfw_iface *iface, __u32 ifindex)
{
	int verdict;
	if (icmp_is_error(pkt)) {
		bpf_tail_call(ctx, &xdpfw_tail_calls, XDPFW_TAIL_ICMP_ERROR);
		/* The slot is empty: nobody can judge it (fail closed). */
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	}
	if (parsed == PARSE_FRAGMENT) {
		if (!(pkt->flags & PKT_FRAGMENT_HEAD)) {
			verdict = later_fragment(ctx, pkt, &FAST_PATH, 1, ifindex);
			if (verdict == FRAGMENT_TO_SLOW_PATH || verdict == FORWARD_TOO_BIG)
				return to_slow_path(ctx, pkt, iface);
			return verdict;
		}
		fragment_note_first(pkt, ifindex, XDPFW_FRAGMENT_PENDING);
	}
	struct xdpfw_session *sess = session_lookup(&pkt->key, &pkt->dir);
	/* A session's tuple from another interface: an injection, never a new flow. */
	if (sess && !session_bound_here(sess, pkt->dir, ifindex))
		return count(XDPFW_CNT_DROP_WRONG_INTERFACE, ctx, XDP_DROP);
	if (!sess) {
		if (!tcp_may_open(ctx, pkt))
			return count(XDPFW_CNT_DROP_TCP_SYN_CHECK, ctx, XDP_DROP);
		return to_slow_path_new(ctx, pkt, iface);
	}
	/* TCP: judged against the session's state before, recorded after. */
	struct tcp_track track;
	verdict = tcp_check(ctx, pkt, sess, &track);
	if (verdict == TCP_TO_SLOW_PATH)
		return to_slow_path_new(ctx, pkt, iface);
	if (verdict >= 0)
		return verdict;
	if (parsed == PARSE_FRAGMENT)
		fragment_note_first(pkt, ifindex, XDPFW_FRAGMENT_JUDGED);
	verdict = forward_session(ctx, pkt, sess, &FAST_PATH);
	/* Rewritten already: the slow path would not know the packet. */
	if ((verdict == FORWARD_TO_SLOW_PATH || verdict == FORWARD_TOO_BIG || verdict == ROUTE_CHANGED) &&
	    sess->flags & XDPFW_SESS_NAT)
		return count(XDPFW_CNT_DROP_NAT_SLOW_PATH, ctx, XDP_DROP);
	if (verdict == FORWARD_TO_SLOW_PATH || verdict == FORWARD_TOO_BIG)
		return to_slow_path(ctx, pkt, iface);
	/* Not sent: the TCP state stays as it was until the slow path injects it. */
	if (verdict == ROUTE_CHANGED)
		return to_slow_path_as(ctx, pkt, iface, XDPFW_CNT_SESSION_REROUTED, 0);
	tcp_commit(ctx, pkt, sess, &track, verdict);
	return verdict;
}

/*
 * The entry point. A whole IP packet arriving on a zone's interface, nearly
 * every packet, is screened (xdpfw_run_screens(), a global function so its
 * paths do not multiply the session stage's in the verifier) and judged by the
 * session stage right here: one parse, no tail call. The rest is what the
 * link layer alone decides (malformed frames, EtherTypes, neighbour
 * discovery), and fragments, which go on by tail call to the zone's screens
 * (xdpfw_screens) and the session stage (xdpfw_session): with the fragment
 * paths too, one program would exceed the verifier's budget of one million
 * instructions.
 */
SEC("xdp.frags")
int xdpfw_rx(struct xdp_md *ctx)
{
	struct packet pkt;
	__u32 ifindex = ctx->ingress_ifindex;
	struct xdpfw_iface *iface = iface_entry(&xdpfw_ifaces, ifindex);
	/* A trunk's frames are its units' to judge, on their devices (vlan_units.h). */
	if (iface && iface->flags & XDPFW_IFACE_TRUNK) {
		int step = vlan_to_unit(ctx, ifindex);
		return step == VLAN_REDIRECT ? count(XDPFW_CNT_VLAN_TO_UNIT, ctx, XDP_REDIRECT)
		       : step == VLAN_UNKNOWN ? count(XDPFW_CNT_DROP_VLAN_UNKNOWN, ctx, XDP_DROP)
					      : count(XDPFW_CNT_DROP_VLAN_TAG, ctx, XDP_DROP);
	}
	int parsed = parse_packet(ctx, &pkt);
	/* The common case, a whole IP packet on a zone's interface, is screened
	 * and goes on to the session stage here: no tail call, no second parse. */
	if (parsed == PARSE_OK && iface) {
		/* The call may write what it is given, as far as the verifier
		 * knows: the packet pointers are kept aside and put back. */
		struct iphdr *ip4 = pkt.ip4;
		struct ipv6hdr *ip6 = pkt.ip6;
		void *l4 = pkt.l4;
		/* A zone without screens makes no call (an array lookup inlined). */
		int screened = zone_has_screens(iface->zone_id) ? xdpfw_run_screens(ctx, &pkt, iface->zone_id) : -1;
		if (screened >= 0)
			return screened;
		pkt.ip4 = ip4;
		pkt.ip6 = ip6;
		pkt.l4 = l4;
		return session_stage(ctx, &pkt, PARSE_OK, iface, ifindex);
	}
	/* proxy-arp / proxy-ndp: requests for a proxied address are answered here. */
	if (iface && ((parsed == PARSE_NON_IP && pkt.ethertype == bpf_htons(ETH_P_ARP)) ||
		      (parsed == PARSE_NEIGHBOR && pkt.icmp_type == 135)) &&
	    neigh_proxy_asked(ctx, ifindex, pkt.l3_offset, parsed == PARSE_NON_IP)) {
		int answer = xdpfw_neigh_proxy_answer(ctx, ifindex, pkt.l3_offset, parsed == PARSE_NON_IP);
		return answer == NEIGH_ANSWERED_ARP   ? count(XDPFW_CNT_PROXY_ARP_ANSWER, ctx, XDP_TX)
		       : answer == NEIGH_ANSWERED_NDP ? count(XDPFW_CNT_PROXY_NDP_ANSWER, ctx, XDP_TX)
						      : count(XDPFW_CNT_DROP_PROXY_NO_ROOM, ctx, XDP_DROP);
	}
	if (parsed == PARSE_NON_IP && !non_ip_passes(&pkt))
		return count(XDPFW_CNT_DROP_NON_IP, ctx, XDP_DROP);
	if (parsed == PARSE_NEIGHBOR && !neighbor_for_box(ctx, &pkt))
		return count(XDPFW_CNT_DROP_NEIGHBOR, ctx, XDP_DROP);
	int verdict = parse_verdict(ctx, parsed);
	if (verdict >= 0)
		return verdict;
	if (iface && zone_has_screens(iface->zone_id)) {
		bpf_tail_call(ctx, &xdpfw_tail_calls, XDPFW_TAIL_SCREENS);
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP); /* empty slot: fail closed */
	}
	bpf_tail_call(ctx, &xdpfw_tail_calls, XDPFW_TAIL_SESSION);
	return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
}

/* xdpfw_rx's tail call for a fragment in a zone with screens: parses again,
 * screens (they see fragments too), then goes on in xdpfw_session. */
SEC("xdp.frags")
int xdpfw_screens(struct xdp_md *ctx)
{
	struct packet pkt;
	__u32 ifindex = ctx->ingress_ifindex;
	int parsed = parse_packet(ctx, &pkt);
	if (parsed != PARSE_OK && parsed != PARSE_FRAGMENT)
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP); /* xdpfw_rx parsed it the same */
	struct xdpfw_iface *iface = bpf_map_lookup_elem(&xdpfw_ifaces, &ifindex);
	int screened = iface ? xdpfw_run_screens(ctx, &pkt, iface->zone_id) : -1;
	if (screened >= 0)
		return screened;
	bpf_tail_call(ctx, &xdpfw_tail_calls, XDPFW_TAIL_SESSION);
	return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP); /* empty slot: fail closed */
}

/* The session stage of a fragment (and of a packet on an interface xdpfw_ifaces
 * does not know yet), after xdpfw_rx or xdpfw_screens let it go on. */
SEC("xdp.frags")
int xdpfw_session(struct xdp_md *ctx)
{
	struct packet pkt;
	__u32 ifindex = ctx->ingress_ifindex;
	int parsed = parse_packet(ctx, &pkt);
	if (parsed != PARSE_OK && parsed != PARSE_FRAGMENT)
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	struct xdpfw_iface *iface = bpf_map_lookup_elem(&xdpfw_ifaces, &ifindex);
	return session_stage(ctx, &pkt, parsed, iface, ifindex);
}

static __always_inline int inject(struct xdp_md *ctx, const struct path *path)
{
	struct packet pkt;
	int parsed = parse_packet(ctx, &pkt);
	int verdict = parse_verdict(ctx, parsed);
	if (verdict >= 0)
		return verdict;
	if (parsed == PARSE_FRAGMENT && !(pkt.flags & PKT_FRAGMENT_HEAD))
		return later_fragment(ctx, &pkt, path, 0, ctx->ingress_ifindex);
	struct xdpfw_session *sess = session_lookup(&pkt.key, &pkt.dir);
	if (!sess)
		return count(XDPFW_CNT_INJECT_MISS, ctx, XDP_DROP);
	if (!session_bound_here(sess, pkt.dir, ctx->ingress_ifindex))
		return count(XDPFW_CNT_DROP_WRONG_INTERFACE, ctx, XDP_DROP);
	struct tcp_track track;
	verdict = tcp_check(ctx, &pkt, sess, &track);
	/* A new connection on a closed session: the slow path closes the old
	 * one before it installs the new, so this is a race lost; dropped. */
	if (verdict == TCP_TO_SLOW_PATH)
		return count(XDPFW_CNT_DROP_TCP_INVALID, ctx, XDP_DROP);
	if (verdict >= 0)
		return verdict;
	if (parsed == PARSE_FRAGMENT)
		fragment_note_first(&pkt, ctx->ingress_ifindex, XDPFW_FRAGMENT_JUDGED);
	verdict = forward_session(ctx, &pkt, sess, path);
	/* The slow path checked the new route before it injected; it moved again. */
	if (verdict == ROUTE_CHANGED)
		return count(XDPFW_CNT_DROP_REROUTED, ctx, XDP_DROP);
	/* The slow path answers a cached reject before it injects; one that
	 * still arrives here (a reload in between) is dropped. */
	if (verdict == FORWARD_TO_SLOW_PATH)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
	if (verdict == FORWARD_TOO_BIG && sess->flags & XDPFW_SESS_NAT)
		return count(XDPFW_CNT_DROP_NAT_SLOW_PATH, ctx, XDP_DROP);
	if (verdict == FORWARD_TOO_BIG)
		return too_big_to_kernel(ctx, &pkt, sess, path);
	tcp_commit(ctx, &pkt, sess, &track, verdict);
	return verdict;
}

SEC("xdp.frags")
int xdpfw_inject(struct xdp_md *ctx)
{
	return inject(ctx, &INJECT_PATH);
}

SEC("xdp.frags")
int xdpfw_inject_new(struct xdp_md *ctx)
{
	return inject(ctx, &INJECT_NEW_PATH);
}

/* Whether a connected socket of the box (in the ingress device's namespace)
 * has this packet's tuple, and no listening (TCP) or unconnected (UDP) socket
 * owns its local port: a reply to a connection the box opened. A service of
 * the box stays behind host-inbound-traffic and junos-host policies, also for
 * the sockets it accepted: otherwise a connection to the box whose session was
 * closed (by a reload that denies it, a clear, an expiry) would come back
 * through here unjudged. */
static __always_inline int box_connection(struct xdp_md *ctx, const struct xdpfw_session_key *key)
{
	struct bpf_sock_tuple tuple = {};
	__u32 size;
	if (key->family == AF_INET) {
		tuple.ipv4.saddr = key->src_addr[0];
		tuple.ipv4.daddr = key->dst_addr[0];
		tuple.ipv4.sport = key->src_port;
		tuple.ipv4.dport = key->dst_port;
		size = sizeof(tuple.ipv4);
	} else {
		__builtin_memcpy(tuple.ipv6.saddr, key->src_addr, 16);
		__builtin_memcpy(tuple.ipv6.daddr, key->dst_addr, 16);
		tuple.ipv6.sport = key->src_port;
		tuple.ipv6.dport = key->dst_port;
		size = sizeof(tuple.ipv6);
	}
	/* Two lookups, two pointer types: the verifier wants each read apart. */
	struct bpf_sock *sk;
	int connected = 0;
	if (key->protocol == IPPROTO_TCP) {
		sk = bpf_skc_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
		if (sk) {
			connected = sk->state != BPF_TCP_LISTEN;
			bpf_sk_release(sk);
		}
	} else if (key->protocol == IPPROTO_UDP) {
		sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
		if (sk) {
			connected = sk->dst_port != 0;
			bpf_sk_release(sk);
		}
	}
	if (!connected)
		return 0;
	/* Remote port 0 matches no connected socket: what answers now is the
	 * local port's listener or unbound-remote socket, a service's. */
	if (key->family == AF_INET)
		tuple.ipv4.sport = 0;
	else
		tuple.ipv6.sport = 0;
	if (key->protocol == IPPROTO_TCP)
		sk = bpf_skc_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		bpf_sk_release(sk);
		return 0;
	}
	return 1;
}

SEC("xdp.frags")
int xdpfw_route(struct xdp_md *ctx)
{
	struct packet pkt;
	struct xdpfw_route_result res = {};
	struct xdpfw_route_query query;
	void *data = (void *)(long)ctx->data;
	if (data + sizeof(query) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&query, data, sizeof(query));
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(query)))
		return XDP_ABORTED;
	int parsed = parse_packet(ctx, &pkt);
	/* A fragment is routed like a whole packet: a first one is judged, a
	 * later one the slow path sends on behind it (by its addresses; ports 0). */
	if (parsed != PARSE_OK && parsed != PARSE_FRAGMENT)
		res.fib_rc = 0xffffffff;
	else {
		struct bpf_fib_lookup fib;
		__u32 flags = fib_params_from(&pkt, ctx, &fib, query.table_id);
		fib.tot_len = 0; /* ask for the route, not the MTU */
		res.fib_rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), flags);
		res.ifindex = fib.ifindex;
		if (res.fib_rc == BPF_FIB_LKUP_RET_NOT_FWDED && box_connection(ctx, &pkt.key))
			res.flags = XDPFW_ROUTE_BOX_CONNECTION;
	}
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(res)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(res) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, &res, sizeof(res));
	return XDP_PASS;
}

/* An ICMP error goes along the session of the packet it quotes, toward that
 * packet's source, counted on the session; it never opens one. With no such
 * session it may still be about a connection of the box itself.
 * xdpfw_rx tail-calls it after the screens: a program of its own keeps the
 * quote's header walk out of xdpfw_rx's verification and stack. It parses
 * the frame again, which costs little next to an ICMP error's rarity. */
SEC("xdp.frags")
int xdpfw_icmp_error(struct xdp_md *ctx)
{
	struct packet pkt;
	struct xdpfw_session_key key;
	int parsed = parse_packet(ctx, &pkt);
	/* An error fits in one packet (576 / 1280 bytes): a fragmented one is not judged. */
	if (parsed == PARSE_FRAGMENT)
		return count(XDPFW_CNT_DROP_FRAGMENT, ctx, XDP_DROP);
	if (parsed != PARSE_OK || !icmp_is_error(&pkt))
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	int rc = icmp_error_key(&pkt, (void *)(long)ctx->data_end, &key);
	if (rc == ICMP_ERROR_MALFORMED)
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	if (rc == ICMP_ERROR_INCONSISTENT)
		return count(XDPFW_CNT_DROP_ICMP_ERROR_INCONSISTENT, ctx, XDP_DROP);
	if (rc != ICMP_ERROR_KEY)
		return count(XDPFW_CNT_DROP_ICMP_ERROR_NO_SESSION, ctx, XDP_DROP);
	struct xdpfw_session *sess = session_lookup(&key, &pkt.dir);
	if (!sess) {
		if (box_connection(ctx, &key))
			return count(XDPFW_CNT_ICMP_ERROR_LOCAL, ctx, XDP_PASS);
		return count(XDPFW_CNT_DROP_ICMP_ERROR_NO_SESSION, ctx, XDP_DROP);
	}
	/* It comes from where the session's packets toward the quoted source do. */
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 expected = *session_at(__u32, sess, ingress_ifindex, pkt.dir);
	if (expected && expected != ifindex)
		return count(XDPFW_CNT_DROP_ICMP_ERROR_INCONSISTENT, ctx, XDP_DROP);
	if (sess->flags & XDPFW_SESS_NAT) {
		rc = xdpfw_nat_translate_icmp_error(ctx, &pkt.key, nat_where(&pkt), &key);
		if (rc == NAT_BAD_FRAME)
			return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
		if (rc != NAT_TRANSLATED)
			return count(XDPFW_CNT_DROP_NAT_NO_TRANSLATION, ctx, XDP_DROP);
	}
	int verdict = forward_session(ctx, &pkt, sess, &ICMP_ERROR_PATH);
	/* A cached reject gets no answer: nothing ever answers an ICMP error. */
	if (verdict < 0)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
	return verdict;
}

#include "route_batch.h"

/* On the internal end of a trunk unit's veth pair: what the unit's device
 * sends leaves tagged by the trunk (vlan_units.h). */
SEC("xdp.frags")
int xdpfw_vlan_tx(struct xdp_md *ctx)
{
	int step = vlan_from_unit(ctx);
	return step == VLAN_REDIRECT ? count(XDPFW_CNT_VLAN_FROM_UNIT, ctx, XDP_REDIRECT)
				     : count(XDPFW_CNT_DROP_VLAN_TAG, ctx, XDP_DROP);
}
