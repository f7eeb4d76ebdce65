/* SPDX-License-Identifier: MIT */
/*
 * TCP connection tracking in XDP: the state machine and sequence/window
 * validation of an established session, after the slow path has judged and
 * installed it on its first packet.
 *
 * Modelled on Linux conntrack (net/netfilter/nf_conntrack_proto_tcp.c,
 * tcp_in_window()): each side's td_end / td_maxend / td_maxwin, window
 * scaling from the SYN options, the four window conditions; tolerant of
 * retransmitted SYNs and SYN-ACKs like conntrack. Stricter on RST: a RST is
 * accepted only at the exact next sequence number (RFC 5961 3.2), or, while
 * the SYN is unanswered, when it acknowledges the SYN.
 *
 * Every packet is judged before it is forwarded, on a copy of the session
 * entry's connection taken under the entry's spin lock (the two directions
 * arrive on different CPUs): an invalid one is dropped there. Only once the
 * packet was accepted (redirected or passed) is it judged again on a fresh
 * copy and the result written back, under the lock and only if the
 * connection's version has not moved since that copy (else once more, a
 * bounded number of times). A packet the filters discard, or that is
 * dropped for any reason, never moves the state. The judging itself
 * (xdpfw_tcp_step) is a global function working on the copy without the
 * lock: the verifier walks it once, whatever its callers' states.
 *
 * When a session closes (both FINs acknowledged, or an accepted RST) XDP
 * records the reason and time in the session's entry and writes one
 * SESSION_CLOSE record with both directions' exact counters; the slow path
 * removes the entry after the closing timeout, and writes the record
 * itself only if the ring had no room (XDPFW_CLOSE_EVENT_WRITTEN unset).
 *
 * Needs, from the includer: xdpfw_counters, count(), box_connection().
 */
#ifndef XDPFW_TCP_STATE_H
#define XDPFW_TCP_STATE_H

#include "parse.h"
#include "events.h"

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_WSCALE 3
#define TCP_MAX_WSCALE 14
#define TCP_NO_WSCALE 0xff
/* conntrack's MAXACKWINDOW floor: how far below td_end an ACK may lag. */
#define TCP_MIN_ACK_WINDOW 66000

/* `security flow tcp-session` (one entry, written by the daemon). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_tcp_settings);
} xdpfw_tcp_settings SEC(".maps");

enum tcp_result {
	TCP_ACCEPT = 0,
	TCP_OUT_OF_WINDOW,
	TCP_RST_INEXACT,
	TCP_INVALID,
	TCP_REOPEN,       /* a SYN on a closed session: a new connection, for the slow path */
	TCP_CLOSED = 0x10, /* flag: this packet closed the session */
};

/* One segment, as the tracker needs it (host byte order). */
struct tcp_seg {
	__u32 seq;
	__u32 ack;
	__u32 end;   /* seq + payload length, + 1 for SYN and for FIN */
	__u32 win;   /* the header's window field, unscaled */
	__u8 flags;  /* FIN SYN RST ACK */
	__u8 wscale; /* window scale option of a SYN, TCP_NO_WSCALE when absent */
	__u8 dir;    /* 0: from the client, 1: from the server */
	__u8 settings; /* enum xdpfw_tcp_settings_flags */
};

/* What tcp_check() found, for tcp_commit(). */
struct tcp_track {
	struct xdpfw_session *owner; /* NULL: not tracked (not TCP, or judged invalid) */
	struct tcp_seg seg;
};

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}
#define seq_after(a, b) seq_before(b, a)

static __always_inline __u32 tcp_settings(void)
{
	__u32 zero = 0;
	struct xdpfw_tcp_settings *s = bpf_map_lookup_elem(&xdpfw_tcp_settings, &zero);
	return s ? s->flags : 0;
}

/* The window scale option of a SYN (RFC 7323), TCP_NO_WSCALE without one.
 * A global function: the verifier walks its option loop once, not once per
 * path of the programs that call it. */
__attribute__((noinline)) int xdpfw_tcp_wscale(struct xdp_md *ctx, __u32 opt_at, __u32 opt_len)
{
	if (!ctx)
		return TCP_NO_WSCALE;
	__u8 opts[44] = {};
	opt_len &= 0x3f;
	if (opt_len == 0 || opt_len > 40)
		return TCP_NO_WSCALE;
	if (bpf_xdp_load_bytes(ctx, opt_at, opts, opt_len))
		return TCP_NO_WSCALE;
	/* Every byte position is visited at a constant index (the loop is
	 * unrolled); `at` marks where the next option starts. */
	__u32 at = 0;
	for (int i = 0; i < 40; i++) {
		if (i >= opt_len)
			break;
		if (i != at)
			continue;
		__u8 kind = opts[i];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			at = i + 1;
			continue;
		}
		__u8 len = opts[i + 1];
		if (kind == TCP_OPT_WSCALE && len == 3 && i + 2 < opt_len) {
			__u8 scale = opts[i + 2];
			return scale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : scale;
		}
		if (len < 2)
			break;
		at = i + len;
	}
	return TCP_NO_WSCALE;
}

/* Fills seg from the TCP header at l4_at of a packet whose IP payload ends
 * at l3_end; -1 when the header cannot be read whole. A global function
 * (verified once); the header is copied rather than pointed to. */
__attribute__((noinline)) int xdpfw_tcp_segment(struct xdp_md *ctx, __u32 l4_at, __u32 l3_end, __u32 flags,
						struct tcp_seg *seg)
{
	struct tcphdr th;
	if (!ctx || !seg)
		return -1;
	l4_at &= 0xffff;
	if (bpf_xdp_load_bytes(ctx, l4_at, &th, sizeof(th)))
		return -1;
	__u32 hlen = th.doff * 4;
	if (hlen < sizeof(th) || l4_at + hlen > l3_end)
		return -1;
	seg->seq = bpf_ntohl(th.seq);
	seg->ack = bpf_ntohl(th.ack_seq);
	seg->win = bpf_ntohs(th.window);
	seg->flags = flags & (TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST | TCP_FLAG_ACK);
	seg->end = seg->seq + (l3_end - l4_at - hlen) + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
	seg->wscale = TCP_NO_WSCALE;
	if (seg->flags & TCP_FLAG_SYN)
		seg->wscale = xdpfw_tcp_wscale(ctx, l4_at + sizeof(th), hlen - sizeof(th));
	return 0;
}

/* A side seen on its SYN (or SYN-ACK). */
static __always_inline void tcp_side_from_syn(struct xdpfw_tcp_dir *d, const struct tcp_seg *seg)
{
	d->td_end = seg->end;
	d->td_maxend = seg->end;
	d->td_maxwin = seg->win ? seg->win : 1;
	d->td_maxack = 0;
	d->td_scale = seg->wscale == TCP_NO_WSCALE ? 0 : seg->wscale;
	d->flags = seg->wscale == TCP_NO_WSCALE ? 0 : XDPFW_TCP_DIR_WSCALE;
	if (seg->flags & TCP_FLAG_ACK) {
		d->td_maxack = seg->ack;
		d->flags |= XDPFW_TCP_DIR_MAXACK;
	}
}

/* The state a live connection is in from its FINs. */
static __always_inline __u8 tcp_closing_state(const struct xdpfw_tcp_dir *c, const struct xdpfw_tcp_dir *s)
{
	__u8 fins = !!(c->flags & XDPFW_TCP_DIR_FIN) + !!(s->flags & XDPFW_TCP_DIR_FIN);
	__u8 acked = !!(c->flags & XDPFW_TCP_DIR_FIN_ACKED) + !!(s->flags & XDPFW_TCP_DIR_FIN_ACKED);
	if (fins == 0)
		return XDPFW_TCP_ESTABLISHED;
	if (fins == 1)
		return acked ? XDPFW_TCP_CLOSE_WAIT : XDPFW_TCP_FIN_WAIT;
	return acked == 2 ? XDPFW_TCP_TIME_WAIT : XDPFW_TCP_LAST_ACK;
}

/* A session to the box: only the client's direction passes here, so there
 * are no windows to track; RST closes, FIN starts the closing wait. */
static __always_inline int tcp_step_local(struct xdpfw_tcp_conn *t, const struct tcp_seg *seg)
{
	__u8 state = t->state, next = state, f = seg->flags;
	if ((f & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN && state >= XDPFW_TCP_TIME_WAIT)
		return TCP_REOPEN;
	if (state >= XDPFW_TCP_TIME_WAIT)
		return TCP_ACCEPT;
	if (f & TCP_FLAG_RST)
		next = XDPFW_TCP_CLOSE;
	else if (f & TCP_FLAG_FIN)
		next = XDPFW_TCP_LAST_ACK;
	else if ((f & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
		next = state == XDPFW_TCP_NONE ? XDPFW_TCP_SYN_SENT : state;
	else if (state < XDPFW_TCP_ESTABLISHED)
		next = XDPFW_TCP_ESTABLISHED;
	t->state = next;
	if (next != XDPFW_TCP_CLOSE)
		return TCP_ACCEPT;
	t->close_reason = XDPFW_CLOSE_TCP_RST;
	return TCP_ACCEPT | TCP_CLOSED;
}

/*
 * Judges one segment against the connection *t (a copy: no lock held) and
 * updates the copy; the caller writes it back if the packet is accepted.
 * `local`: a session to the box (one direction seen). A global function: the
 * verifier walks it once, whatever the states of its callers.
 */
__attribute__((noinline)) int xdpfw_tcp_step(struct xdpfw_tcp_conn *t, const struct tcp_seg *seg, __u32 local)
{
	if (!t || !seg)
		return TCP_INVALID;
	if (local)
		return tcp_step_local(t, seg);
	__u8 state = t->state, next;
	__u8 f = seg->flags;
	int dir = seg->dir & 1;
	/* In place: the caller's copy is thrown away unless this returns TCP_ACCEPT. */
	struct xdpfw_tcp_dir *cl = &t->dir[0], *sv = &t->dir[1];
	struct xdpfw_tcp_dir *snd = dir ? sv : cl, *rcv = dir ? cl : sv;
	int syn = f & TCP_FLAG_SYN, ack = f & TCP_FLAG_ACK, rst = f & TCP_FLAG_RST, fin = f & TCP_FLAG_FIN;
	int strict = !(seg->settings & XDPFW_TCP_NO_SEQUENCE_CHECK) &&
		     !((cl->flags | sv->flags) & XDPFW_TCP_DIR_LIBERAL);

	/* Flag combinations no TCP sends (conntrack's tcp_valid_flags). */
	if ((syn && (rst || fin)) || (!syn && !rst && !ack))
		return TCP_INVALID;
	if (state >= XDPFW_TCP_TIME_WAIT && syn && !ack)
		return TCP_REOPEN;

	if (syn) {
		if (!ack) {
			/* Client SYN: the first, a retransmission, or a new ISN. */
			if (dir)
				return TCP_INVALID; /* simultaneous open is not supported */
			if (state > XDPFW_TCP_SYN_RECV)
				return TCP_ACCEPT; /* the endpoints answer it (challenge ACK) */
			if (state != XDPFW_TCP_NONE && seg->end == cl->td_end)
				return TCP_ACCEPT; /* retransmitted */
			tcp_side_from_syn(cl, seg);
			__builtin_memset(sv, 0, sizeof(*sv));
			next = XDPFW_TCP_SYN_SENT;
			goto write;
		}
		/* SYN-ACK: must acknowledge the client's SYN. */
		if (!dir)
			return TCP_INVALID;
		if (state > XDPFW_TCP_SYN_RECV)
			return TCP_ACCEPT; /* retransmitted after the handshake: the client re-ACKs */
		if (state == XDPFW_TCP_NONE)
			return TCP_INVALID;
		if (seg->ack != cl->td_end)
			return strict ? TCP_OUT_OF_WINDOW : TCP_ACCEPT;
		tcp_side_from_syn(sv, seg);
		/* Scaling holds only when both SYNs carry the option (RFC 7323). */
		if (!(cl->flags & sv->flags & XDPFW_TCP_DIR_WSCALE)) {
			cl->td_scale = 0;
			sv->td_scale = 0;
		}
		/* What the server's window lets the client send (SYN windows are unscaled). */
		cl->td_maxend = seg->ack + (seg->win ? seg->win : 1);
		next = XDPFW_TCP_SYN_RECV;
		goto write;
	}

	if (state == XDPFW_TCP_NONE) {
		/* Picked up mid-stream (no-syn-check): the history is lost, so
		 * windows are learnt, not enforced (conntrack's be_liberal). */
		if (dir || !(seg->settings & XDPFW_TCP_NO_SYN_CHECK))
			return TCP_INVALID;
		cl->td_end = seg->end;
		cl->td_maxwin = seg->win ? seg->win : 1;
		cl->td_maxend = seg->end + cl->td_maxwin;
		cl->flags = XDPFW_TCP_DIR_LIBERAL;
		sv->td_end = seg->ack;
		sv->td_maxend = seg->ack;
		sv->flags = XDPFW_TCP_DIR_LIBERAL;
		next = rst ? XDPFW_TCP_CLOSE : XDPFW_TCP_ESTABLISHED;
		goto write;
	}

	if (state == XDPFW_TCP_SYN_SENT) {
		/* Only a RST answering the SYN (acknowledging it), or the client
		 * abandoning its SYN, is possible before the SYN-ACK. */
		if (!rst)
			return TCP_INVALID;
		if (dir ? (ack && seg->ack == cl->td_end) : seg->seq == cl->td_end) {
			next = XDPFW_TCP_CLOSE;
			goto write;
		}
		return strict ? TCP_RST_INEXACT : TCP_ACCEPT;
	}

	/* tcp_in_window(): both sides are known from here on. */
	__u32 seq = seg->seq, end = seg->end, ackv = seg->ack;
	if (!ack || (rst && ackv == 0))
		ackv = rcv->td_end; /* no ACK to check (conntrack: broken stacks send 0 in RSTs) */
	if (seq == end && !rst)
		seq = end = snd->td_end; /* no data: only the ACK is checked */
	__u32 ack_window = snd->td_maxwin > TCP_MIN_ACK_WINDOW ? snd->td_maxwin : TCP_MIN_ACK_WINDOW;
	int in_window = seq_before(seq, snd->td_maxend + 1) &&
			seq_after(end, snd->td_end - rcv->td_maxwin - 1) &&
			seq_before(ackv, rcv->td_end + 1) &&
			seq_after(ackv, rcv->td_end - ack_window - 1);
	if (!in_window && strict)
		return TCP_OUT_OF_WINDOW;

	if (rst) {
		/* RFC 5961 3.2: exactly what the receiver expects next, i.e. the
		 * end of what this side sent, or the receiver's latest ACK. */
		int exact = seg->seq == snd->td_end ||
			    ((rcv->flags & XDPFW_TCP_DIR_MAXACK) && seg->seq == rcv->td_maxack);
		if (!exact && strict)
			return TCP_RST_INEXACT;
		if (state >= XDPFW_TCP_TIME_WAIT)
			return TCP_ACCEPT;
		next = XDPFW_TCP_CLOSE;
		goto write;
	}

	/* Update the sender's and the receiver's bounds (conntrack's order). */
	__u32 win = seg->win << (snd->td_scale & 15);
	if (snd->td_maxwin < win)
		snd->td_maxwin = win;
	if (seq_after(end, snd->td_end))
		snd->td_end = end;
	if (ack && (!(snd->flags & XDPFW_TCP_DIR_MAXACK) || seq_after(ackv, snd->td_maxack))) {
		snd->td_maxack = ackv;
		snd->flags |= XDPFW_TCP_DIR_MAXACK;
	}
	if (rcv->td_maxwin != 0 && seq_after(end, snd->td_maxend))
		rcv->td_maxwin += end - snd->td_maxend;
	if (seq_after(ackv + win, rcv->td_maxend - 1))
		rcv->td_maxend = ackv + win + (win == 0);

	next = state;
	if (state >= XDPFW_TCP_TIME_WAIT)
		goto write; /* closed: the bounds follow late segments, the state stays */
	if (fin)
		snd->flags |= XDPFW_TCP_DIR_FIN;
	if (ack && (rcv->flags & XDPFW_TCP_DIR_FIN) && !seq_before(ackv, rcv->td_end))
		rcv->flags |= XDPFW_TCP_DIR_FIN_ACKED;
	/* In SYN_RECV only the client's ACK of the SYN-ACK completes the handshake. */
	if (state != XDPFW_TCP_SYN_RECV || (!dir && !seq_before(ackv, sv->td_end)))
		next = tcp_closing_state(cl, sv);

write:
	t->state = next;
	if (next == state || next < XDPFW_TCP_TIME_WAIT || state >= XDPFW_TCP_TIME_WAIT)
		return TCP_ACCEPT;
	t->close_reason = next == XDPFW_TCP_CLOSE ? XDPFW_CLOSE_TCP_RST : XDPFW_CLOSE_TCP_FIN;
	return TCP_ACCEPT | TCP_CLOSED;
}

/* A copy of the entry's connection, consistent (taken under its lock). */
static __always_inline void tcp_load(struct xdpfw_session *o, struct xdpfw_tcp_conn *t)
{
	bpf_spin_lock(&o->lock);
	*t = o->tcp;
	bpf_spin_unlock(&o->lock);
}

/* Writes *t back unless another CPU wrote since the copy of `version`. */
static __always_inline int tcp_store(struct xdpfw_session *o, const struct xdpfw_tcp_conn *t, __u16 version)
{
	int stored = 0;
	bpf_spin_lock(&o->lock);
	if (o->tcp.version == version) {
		o->tcp = *t;
		o->tcp.version = version + 1;
		stored = 1;
	}
	bpf_spin_unlock(&o->lock);
	return stored;
}

/* A miss: whether a TCP packet may go to the slow path to open a session
 * (syn-check). Replies to connections the box opened are not SYNs. */
static __always_inline int tcp_may_open(struct xdp_md *ctx, const struct packet *pkt)
{
	if (pkt->key.protocol != IPPROTO_TCP)
		return 1;
	if ((pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) == TCP_FLAG_SYN)
		return 1;
	if (tcp_settings() & XDPFW_TCP_NO_SYN_CHECK)
		return 1;
	return box_connection(ctx, &pkt->key);
}

/*
 * Before forwarding a packet of session entry `sess`: -1 when it goes on
 * (track filled for tcp_commit()), TCP_TO_SLOW_PATH for a new connection on a
 * closed session, else the verdict of a dropped (and counted) packet.
 */
#define TCP_TO_SLOW_PATH (-3)
static __noinline int tcp_check_segment(struct xdp_md *ctx, const struct packet *pkt,
					struct xdpfw_session *sess, struct tcp_track *track)
{
	struct xdpfw_tcp_conn t;
	if (xdpfw_tcp_segment(ctx, pkt->l4_offset, pkt->l3_offset + pkt->l3_len, pkt->tcp_flags, &track->seg))
		return count(XDPFW_CNT_DROP_MALFORMED, ctx, XDP_DROP);
	struct xdpfw_session *owner = sess;
	track->seg.dir = pkt->dir & 1;
	track->seg.settings = tcp_settings();
	tcp_load(owner, &t);
	switch (xdpfw_tcp_step(&t, &track->seg, owner->flags & XDPFW_SESS_LOCAL) & ~TCP_CLOSED) {
	case TCP_ACCEPT:
		track->owner = owner;
		return -1;
	case TCP_REOPEN:
		return TCP_TO_SLOW_PATH;
	case TCP_OUT_OF_WINDOW:
		return count(XDPFW_CNT_DROP_TCP_OUT_OF_WINDOW, ctx, XDP_DROP);
	case TCP_RST_INEXACT:
		return count(XDPFW_CNT_DROP_TCP_RST_INEXACT, ctx, XDP_DROP);
	default:
		return count(XDPFW_CNT_DROP_TCP_INVALID, ctx, XDP_DROP);
	}
}

/* Inline, so other protocols pay no call. */
static __always_inline int tcp_check(struct xdp_md *ctx, const struct packet *pkt,
				     struct xdpfw_session *sess, struct tcp_track *track)
{
	track->owner = NULL;
	if (pkt->key.protocol != IPPROTO_TCP)
		return -1;
	/* A first fragment holds the header but not the whole segment, so its
	 * length (and the window it must fit) is unknown: it follows the
	 * session untracked, unless it would change the connection's state. */
	if (pkt->flags & PKT_FRAGMENT) {
		if (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST))
			return count(XDPFW_CNT_DROP_TCP_INVALID, ctx, XDP_DROP);
		return -1;
	}
	return tcp_check_segment(ctx, pkt, sess, track);
}

/* The SESSION_CLOSE record of a session XDP just closed, with both
 * directions' counters, its tuple as the client sent it (pkt's reversed
 * for a packet from the server); marks the entry when it was written. */
static __noinline void tcp_emit_close(struct xdp_md *ctx, struct xdpfw_session *o,
				      const struct packet *pkt)
{
	const struct xdpfw_session_key *key = &pkt->key;
	__u64 from_server = pkt->dir & 1;
	asm volatile("" : "+r"(from_server));
	struct xdpfw_event *ev = bpf_ringbuf_reserve(&xdpfw_events, sizeof(*ev), 0);
	if (!ev) {
		count(XDPFW_CNT_EVENT_RESERVE_FAIL, ctx, 0);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->version = XDPFW_EVENT_VERSION;
	ev->kind = XDPFW_EVENT_SESSION_CLOSE;
	ev->family = key->family;
	ev->protocol = key->protocol;
	ev->action = XDPFW_ACTION_PERMIT;
	ev->close_reason = o->tcp.close_reason;
	/* The tuple's source and destination fields lie side by side: the
	 * client's are at the offset of the packet's direction. */
	ev->src_port = *(const __u16 *)((const void *)&key->src_port + from_server * 2);
	ev->dst_port = *(const __u16 *)((const void *)&key->src_port + (from_server ^ 1) * 2);
	__builtin_memcpy(ev->src_addr, (const void *)key->src_addr + from_server * 16, sizeof(ev->src_addr));
	__builtin_memcpy(ev->dst_addr, (const void *)key->src_addr + (from_server ^ 1) * 16, sizeof(ev->dst_addr));
	ev->ingress_zone = o->zone[0];
	ev->egress_zone = o->zone[1];
	ev->ingress_ifindex = o->ingress_ifindex[0];
	ev->egress_ifindex = o->ingress_ifindex[1];
	ev->policy_id = o->policy_id;
	ev->monotonic_ns = bpf_ktime_get_ns();
	ev->elapsed_s = ev->monotonic_ns / NSEC_PER_SEC - o->created_s;
	ev->session_id = o->session_id;
	ev->packets_from_client = o->packets[0];
	ev->bytes_from_client = o->bytes[0];
	ev->packets_from_server = o->packets[1];
	ev->bytes_from_server = o->bytes[1];
	bpf_ringbuf_submit(ev, 0);
	/* Only the CPU whose packet closed the session writes this byte. */
	o->close_flags |= XDPFW_CLOSE_EVENT_WRITTEN;
}

/* Tries to write a judgement back: another CPU may write between the copy
 * and the store; the packet is then judged again on a fresh copy. */
#define TCP_STORE_TRIES 4

/* After the packet was accepted: judges it again on a fresh copy (the
 * connection may have moved since tcp_check()) and writes the result back,
 * and reports a close. */
static __noinline void tcp_commit_accepted(struct xdp_md *ctx, const struct packet *pkt,
					   struct xdpfw_session *sess, struct tcp_track *track)
{
	struct xdpfw_session *owner = track->owner;
	struct xdpfw_tcp_conn t;
	int r = TCP_INVALID;
	if (!owner)
		return;
	__u32 local = owner->flags & XDPFW_SESS_LOCAL;
	/* The syn-ack-ack-proxy screen (bpf/syn_ack_ack_proxy.h): its profile is
	 * looked up only by a packet that may complete the handshake. */
	__u32 proxy_facts = (track->seg.dir & 1 ? PROXY_FROM_SERVER : 0) | (track->seg.end != track->seg.seq ? PROXY_DATA : 0);
	if (*(volatile __u8 *)&owner->tcp.state < XDPFW_TCP_ESTABLISHED && !(proxy_facts & (PROXY_FROM_SERVER | PROXY_DATA)) &&
	    proxy_on(owner->zone[0]))
		proxy_facts |= PROXY_COUNTING;
	int proxy = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < TCP_STORE_TRIES; i++) {
		tcp_load(owner, &t);
		__u16 version = t.version;
		__u32 was = t.state | proxy_facts;
		r = xdpfw_tcp_step(&t, &track->seg, local);
		if ((r & ~TCP_CLOSED) != TCP_ACCEPT)
			return; /* no longer valid on a newer state: it changes nothing */
		if (r & TCP_CLOSED)
			t.closed_s = bpf_ktime_get_ns() / NSEC_PER_SEC;
		proxy = xdpfw_proxy_step(&t, was);
		if (tcp_store(owner, &t, version))
			break;
		if (i == TCP_STORE_TRIES - 1)
			return;
	}
	if (proxy)
		proxy_count(owner->zone[0], pkt, proxy);
	if (r & TCP_CLOSED)
		tcp_emit_close(ctx, owner, pkt);
}

static __always_inline void tcp_commit(struct xdp_md *ctx, const struct packet *pkt,
				       struct xdpfw_session *sess, struct tcp_track *track, int verdict)
{
	if (track->owner && (verdict == XDP_REDIRECT || verdict == XDP_PASS))
		tcp_commit_accepted(ctx, pkt, sess, track);
}

#endif
