// SPDX-License-Identifier: MIT
/*
 * xdpfw fast path.
 *
 *   xdpfw_rx      attached to every firewall interface: the ingress zone's
 *                 screens drop attacks first (screens.h); established
 *                 sessions are forwarded here; misses and TCP SYN/FIN/RST go
 *                 to the AF_XDP socket of the receiving queue (the slow path).
 *   xdpfw_inject  run by the slow path through BPF_PROG_RUN (live frames)
 *                 for a packet of an established session it was handed
 *                 (TCP flags): the same forwarding code as the fast path,
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

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_SESSION_ENTRIES);
	__type(key, struct xdpfw_session_key);
	__type(value, struct xdpfw_session);
} xdpfw_sessions SEC(".maps");

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

/* Keep the shared layouts in BTF even where no map names them. */
struct xdpfw_route_result xdpfw_btf_route_result __attribute__((unused));
struct xdpfw_rx_meta xdpfw_btf_rx_meta __attribute__((unused));
enum xdpfw_counter xdpfw_btf_counter __attribute__((unused));
enum xdpfw_constants xdpfw_btf_constants __attribute__((unused));
enum xdpfw_session_flags xdpfw_btf_session_flags __attribute__((unused));

static __always_inline int count(__u32 idx, struct xdp_md *ctx, int verdict)
{
	struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += frame_len(ctx);
	}
	return verdict;
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
		fib->ipv4_src = pkt->key.src_addr[0];
		fib->ipv4_dst = pkt->key.dst_addr[0];
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, pkt->key.src_addr, 16);
		__builtin_memcpy(fib->ipv6_dst, pkt->key.dst_addr, 16);
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
};

static const struct path FAST_PATH = {
	XDPFW_CNT_FAST_FORWARD, XDPFW_CNT_FAST_LOCAL, XDPFW_CNT_FAST_KERNEL, 1
};
static const struct path INJECT_PATH = {
	XDPFW_CNT_INJECT_FORWARD, XDPFW_CNT_INJECT_LOCAL, XDPFW_CNT_INJECT_KERNEL, 1
};
static const struct path INJECT_NEW_PATH = {
	XDPFW_CNT_INJECT_FORWARD, XDPFW_CNT_INJECT_LOCAL, XDPFW_CNT_INJECT_KERNEL, 0
};

/* forward_session(): the packet goes to the slow path (a cached reject,
 * which needs an answer XDP does not build). */
#define FORWARD_TO_SLOW_PATH (-2)
/* replay_filter(): the verdict lets the packet go on. */
#define FILTER_GOES_ON (-1)

/* Enforces, counts and logs one cached filter verdict on a packet of an
 * established session, as the slow path did on the first packet; its log
 * events within the filter-log budget of the ingress zone. */
static __always_inline int replay_filter(struct xdp_md *ctx, struct packet *pkt,
					 const struct xdpfw_session *sess,
					 const struct xdpfw_filter_verdict *v, __u8 source,
					 __u32 egress_ifindex)
{
	if (!v->filter_id)
		return FILTER_GOES_ON;
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
		int reverse = sess->flags & XDPFW_SESS_REVERSE;
		emit_budgeted_event(ctx, &xdpfw_counters, &pkt->key, &(struct xdpfw_event_facts){
			.kind = XDPFW_EVENT_FILTER_LOG,
			.action = v->action == XDPFW_FILTER_ACTION_DISCARD ? XDPFW_ACTION_DISCARD
									   : XDPFW_ACTION_ACCEPT,
			.filter_source = source,
			.filter_id = v->filter_id,
			.term_id = v->term_id,
			.session_id = sess->session_id,
			/* The zones the slow path judged the first packet in. */
			.ingress_zone = reverse ? sess->to_zone : sess->from_zone,
			.egress_zone = reverse ? sess->from_zone : sess->to_zone,
			.egress_ifindex = egress_ifindex,
			.icmp_type = pkt->icmp_type,
		});
	}
	if (v->action == XDPFW_FILTER_ACTION_DISCARD)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
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
	if (sess->input.table_id)
		return count(XDPFW_CNT_DROP_PBR_KERNEL, ctx, XDP_DROP);
	if (path->replay) {
		int verdict = replay_filter(ctx, pkt, sess, &sess->output, XDPFW_FILTER_CACHED_OUTPUT,
					    egress_ifindex);
		if (verdict != FILTER_GOES_ON)
			return verdict;
	}
	return count(path->kernel, ctx, XDP_PASS);
}

/* Forward a packet of a known session: the one forwarding routine shared by
 * the fast path and the slow path's re-injection. */
static __always_inline int forward_session(struct xdp_md *ctx, struct packet *pkt,
					   struct xdpfw_session *sess,
					   const struct path *path)
{
	int verdict;
	if (path->replay) {
		verdict = replay_filter(ctx, pkt, sess, &sess->input, XDPFW_FILTER_CACHED_INPUT, 0);
		if (verdict != FILTER_GOES_ON)
			return verdict;
	}
	__sync_fetch_and_add(&sess->packets, 1);
	__sync_fetch_and_add(&sess->bytes, pkt->l3_len);
	sess->last_seen_ns = bpf_ktime_get_ns();

	if (sess->flags & XDPFW_SESS_LOCAL) {
		/* To the box itself: the lo0 filter is this direction's output. */
		if (path->replay) {
			verdict = replay_filter(ctx, pkt, sess, &sess->output, XDPFW_FILTER_CACHED_LO0, 0);
			if (verdict != FILTER_GOES_ON)
				return verdict;
		}
		return count(path->local, ctx, XDP_PASS);
	}
	/* Tagged frames: the kernel knows the sub-interface. Expiring TTLs: the
	 * kernel sends the ICMP time-exceeded (nothing is forwarded). */
	if (pkt->vlan_tags)
		return to_kernel(ctx, pkt, sess, path, 0);
	if ((pkt->ip4 && pkt->ip4->ttl <= 1) || (pkt->ip6 && pkt->ip6->hop_limit <= 1))
		return count(path->kernel, ctx, XDP_PASS);

	struct bpf_fib_lookup fib;
	__u32 fib_flags = fib_params_from(pkt, ctx, &fib, sess->input.table_id);
	int rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), fib_flags);
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
	default: /* no neighbour yet, MTU exceeded, ...: the kernel resolves it */
		return to_kernel(ctx, pkt, sess, path, fib.ifindex);
	}
	/* Only egress ports we manage can take a redirect. */
	if (!bpf_map_lookup_elem(&xdpfw_tx_ports, &fib.ifindex))
		return to_kernel(ctx, pkt, sess, path, fib.ifindex);
	if (path->replay) {
		verdict = replay_filter(ctx, pkt, sess, &sess->output, XDPFW_FILTER_CACHED_OUTPUT,
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
	return count(path->forward, ctx, bpf_redirect_map(&xdpfw_tx_ports, fib.ifindex, 0));
}

/* Hand the parse result to userspace in the metadata area (see
 * struct xdpfw_rx_meta). Fails only on drivers without metadata support.
 * Invalidates the packet pointers in *pkt. */
static __always_inline int write_rx_meta(struct xdp_md *ctx, struct packet *pkt)
{
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct xdpfw_rx_meta)))
		return -1;
	void *data = (void *)(long)ctx->data;
	struct xdpfw_rx_meta *meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data)
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
	meta->pad = 0;
	meta->reserved = 0;
	return 0;
}

static __always_inline int to_slow_path(struct xdp_md *ctx, struct packet *pkt,
					const struct xdpfw_iface *iface)
{
	if (!iface || ctx->rx_queue_index >= XDPFW_MAX_QUEUES)
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	__u32 key = iface->slot * XDPFW_MAX_QUEUES + ctx->rx_queue_index;
	/* Fail closed: with no socket on this queue nobody could judge it. */
	if (!bpf_map_lookup_elem(&xdpfw_xsks, &key))
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	if (frame_len(ctx) > XDPFW_SLOW_PATH_MAX_FRAME)
		return count(XDPFW_CNT_DROP_TOO_BIG, ctx, XDP_DROP);
	if (write_rx_meta(ctx, pkt))
		return count(XDPFW_CNT_DROP_NO_SOCKET, ctx, XDP_DROP);
	int verdict = bpf_redirect_map(&xdpfw_xsks, key, XDP_DROP);
	return count(verdict == XDP_REDIRECT ? XDPFW_CNT_SLOW_PATH : XDPFW_CNT_DROP_NO_SOCKET,
		     ctx, verdict);
}

/* Verdicts for what the parser alone decides; -1 when the packet goes on. */
static __always_inline int parse_verdict(struct xdp_md *ctx, int parsed)
{
	switch (parsed) {
	case PARSE_OK:
		return -1;
	case PARSE_NON_IP:
		return count(XDPFW_CNT_PASS_NON_IP, ctx, XDP_PASS);
	case PARSE_NEIGHBOR:
		return count(XDPFW_CNT_PASS_NEIGHBOR, ctx, XDP_PASS);
	case PARSE_FRAGMENT:
		return count(XDPFW_CNT_DROP_FRAGMENT, ctx, XDP_DROP);
	default:
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	}
}

/* The ingress zone's screens; -1 when the packet goes on (nothing tripped,
 * or alarm-without-drop). */
static __always_inline int run_screens(struct xdp_md *ctx, struct packet *pkt,
				       const struct xdpfw_iface *iface)
{
	if (!iface)
		return -1;
	__u32 zone = iface->zone_id;
	struct xdpfw_screen_profile *p = bpf_map_lookup_elem(&xdpfw_screen_profiles, &zone);
	if (!p || !p->screens)
		return -1;
	struct screen_hit hit = screen_check(pkt, zone, p, (void *)(long)ctx->data_end);
	if (!hit.screen)
		return -1;
	int alarm = p->flags & XDPFW_SCREEN_ALARM_WITHOUT_DROP;
	screen_report(ctx, &xdpfw_counters, pkt, zone, hit, alarm);
	return alarm ? -1 : count(XDPFW_CNT_DROP_SCREEN, ctx, XDP_DROP);
}

SEC("xdp.frags")
int xdpfw_rx(struct xdp_md *ctx)
{
	struct packet pkt;
	__u32 ifindex = ctx->ingress_ifindex;
	struct xdpfw_iface *iface = NULL;
	int verdict, parsed = parse_packet(ctx, &pkt);
	/* Screens see fragments too: they are dropped only after them. */
	if (parsed == PARSE_OK || parsed == PARSE_FRAGMENT) {
		iface = bpf_map_lookup_elem(&xdpfw_ifaces, &ifindex);
		int screened = run_screens(ctx, &pkt, iface);
		if (screened >= 0)
			return screened;
	}
	verdict = parse_verdict(ctx, parsed);
	if (verdict >= 0)
		return verdict;
	/* Connection setup and teardown are the slow path's to see. */
	if (pkt.key.protocol == IPPROTO_TCP &&
	    (pkt.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)))
		return to_slow_path(ctx, &pkt, iface);
	struct xdpfw_session *sess = bpf_map_lookup_elem(&xdpfw_sessions, &pkt.key);
	if (!sess)
		return to_slow_path(ctx, &pkt, iface);
	verdict = forward_session(ctx, &pkt, sess, &FAST_PATH);
	if (verdict == FORWARD_TO_SLOW_PATH)
		return to_slow_path(ctx, &pkt, iface);
	return verdict;
}

static __always_inline int inject(struct xdp_md *ctx, const struct path *path)
{
	struct packet pkt;
	int verdict = parse_verdict(ctx, parse_packet(ctx, &pkt));
	if (verdict >= 0)
		return verdict;
	struct xdpfw_session *sess = bpf_map_lookup_elem(&xdpfw_sessions, &pkt.key);
	if (!sess)
		return count(XDPFW_CNT_INJECT_MISS, ctx, XDP_DROP);
	verdict = forward_session(ctx, &pkt, sess, path);
	/* The slow path answers a cached reject before it injects; one that
	 * still arrives here (a reload in between) is dropped. */
	if (verdict == FORWARD_TO_SLOW_PATH)
		return count(XDPFW_CNT_DROP_FILTER, ctx, XDP_DROP);
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
 * has this packet's tuple: a reply to a connection the box opened. Listening
 * and unconnected sockets do not count, so a service of the box stays behind
 * host-inbound-traffic. */
static __always_inline int box_connection(struct xdp_md *ctx, const struct packet *pkt)
{
	struct bpf_sock_tuple tuple = {};
	__u32 size;
	if (pkt->ip4) {
		tuple.ipv4.saddr = pkt->key.src_addr[0];
		tuple.ipv4.daddr = pkt->key.dst_addr[0];
		tuple.ipv4.sport = pkt->key.src_port;
		tuple.ipv4.dport = pkt->key.dst_port;
		size = sizeof(tuple.ipv4);
	} else {
		__builtin_memcpy(tuple.ipv6.saddr, pkt->key.src_addr, 16);
		__builtin_memcpy(tuple.ipv6.daddr, pkt->key.dst_addr, 16);
		tuple.ipv6.sport = pkt->key.src_port;
		tuple.ipv6.dport = pkt->key.dst_port;
		size = sizeof(tuple.ipv6);
	}
	/* Two lookups, two pointer types: the verifier wants each read apart. */
	struct bpf_sock *sk;
	int connected = 0;
	if (pkt->key.protocol == IPPROTO_TCP) {
		sk = bpf_skc_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
		if (sk) {
			connected = sk->state != BPF_TCP_LISTEN;
			bpf_sk_release(sk);
		}
	} else if (pkt->key.protocol == IPPROTO_UDP) {
		sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
		if (sk) {
			connected = sk->dst_port != 0;
			bpf_sk_release(sk);
		}
	}
	return connected;
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
	if (parse_packet(ctx, &pkt) != PARSE_OK)
		res.fib_rc = 0xffffffff;
	else {
		struct bpf_fib_lookup fib;
		__u32 flags = fib_params_from(&pkt, ctx, &fib, query.table_id);
		fib.tot_len = 0; /* ask for the route, not the MTU */
		res.fib_rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), flags);
		res.ifindex = fib.ifindex;
		if (res.fib_rc == BPF_FIB_LKUP_RET_NOT_FWDED && box_connection(ctx, &pkt))
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
