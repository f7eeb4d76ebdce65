/* SPDX-License-Identifier: MIT */
/*
 * IP fragments, IPv4 and IPv6, without reassembly.
 *
 * The first fragment of a datagram (offset 0, holding its whole transport
 * header) is judged like any first packet, by its ports: a session hit
 * forwards it, a miss sends it to the slow path. Later fragments carry no
 * ports; they follow their first fragment through xdpfw_fragments, keyed
 * by the datagram as the receiver will reassemble it (addresses, IP
 * identification, protocol), whose entry names the session direction the
 * first fragment was forwarded along. They are then forwarded by the same
 * code as any packet of that session (forward_session: the cached filter
 * verdicts, the session's routing table, its counters).
 *
 * States of an entry:
 *   pending  the first fragment went to the slow path (no session yet, or
 *            TCP flags). Later fragments that arrive meanwhile are held:
 *            they go to the slow path too, which handles a socket's frames
 *            in order, so it re-injects them after it has judged the first
 *            one; xdpfw_inject then follows the entry. Nothing is queued in
 *            XDP.
 *   judged   the first fragment was forwarded along the session.
 *   refused  a held later fragment came back from the slow path while its
 *            first was still pending: the first was refused (or lost), and
 *            the rest of the datagram is dropped in XDP, not held again.
 *            Should the first fragment still be judged after all, judged
 *            replaces refused.
 *
 * Fail closed: a later fragment is forwarded only along a judged entry whose
 * session still exists. Anything else is dropped and counted: no entry (it
 * came before its first fragment and not while that one was held, the flow
 * was denied, the entry was evicted from the LRU table or timed out),
 * pending when re-injected (the first fragment was refused), another
 * ingress interface than the first fragment's, or data overlapping the
 * transport header the first fragment was judged by (RFC 1858, RFC 5722).
 *
 * Bounds, in the spirit of Linux's defragmentation limits (ipfrag_time,
 * ipfrag_high_thresh): at most XDPFW_MAX_FRAGMENT_ENTRIES datagrams in
 * flight, the least recently used evicted first, and later fragments follow
 * their first one for XDPFW_FRAGMENT_TIMEOUT_MS only (a datagram's fragments
 * travel together; the receiver's own reassembly timeout is longer).
 */
#ifndef XDPFW_FRAGMENTS_H
#define XDPFW_FRAGMENTS_H

#include "parse.h"

/* One datagram: what the receiver reassembles by (RFC 791, RFC 8200). */
struct xdpfw_fragment_key {
	__u8 family;
	__u8 protocol; /* IPv4 protocol; IPv6 fragment header's next header */
	__u16 pad;
	__u32 id;      /* identification, network order (IPv4: 16 bits) */
	__u32 src_addr[4];
	__u32 dst_addr[4];
};

enum xdpfw_fragment_state {
	XDPFW_FRAGMENT_PENDING = 1, /* first fragment with the slow path */
	XDPFW_FRAGMENT_JUDGED,      /* first fragment forwarded along `session` */
	XDPFW_FRAGMENT_REFUSED,     /* first fragment not let through by the slow path */
};

struct xdpfw_fragment {
	struct xdpfw_session_key session; /* the first fragment's key: the direction later ones follow */
	__u64 first_ns;        /* when the first fragment was seen (bpf_ktime_get_ns) */
	__u32 ingress_ifindex; /* where the first fragment arrived; later ones must too */
	__u16 head_len;        /* bytes of the fragmentable part the first fragment's headers cover */
	__u8 state;            /* enum xdpfw_fragment_state */
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPFW_MAX_FRAGMENT_ENTRIES);
	__type(key, struct xdpfw_fragment_key);
	__type(value, struct xdpfw_fragment);
} xdpfw_fragments SEC(".maps");

enum xdpfw_fragment_state xdpfw_btf_fragment_state __attribute__((unused));

static __always_inline void fragment_key_of(const struct packet *pkt, struct xdpfw_fragment_key *fk)
{
	__builtin_memset(fk, 0, sizeof(*fk));
	fk->family = pkt->key.family;
	fk->protocol = pkt->frag_proto;
	fk->id = pkt->frag_id;
	__builtin_memcpy(fk->src_addr, pkt->key.src_addr, sizeof(fk->src_addr));
	__builtin_memcpy(fk->dst_addr, pkt->key.dst_addr, sizeof(fk->dst_addr));
}

/* A first fragment (PKT_FRAGMENT_HEAD) is being judged (pending) or was
 * found to belong to a session (judged): later fragments follow it. A
 * failed update only means they will be dropped. */
static __always_inline void fragment_note_first(const struct packet *pkt, __u32 ifindex, __u8 state)
{
	if (!(pkt->flags & PKT_MORE_FRAGMENTS))
		return; /* an atomic fragment (RFC 6946): nothing follows it */
	struct xdpfw_fragment_key fk;
	struct xdpfw_fragment f = {};
	fragment_key_of(pkt, &fk);
	f.session = pkt->key;
	f.first_ns = bpf_ktime_get_ns();
	f.ingress_ifindex = ifindex;
	f.head_len = pkt->frag_head_len;
	f.state = state;
	bpf_map_update_elem(&xdpfw_fragments, &fk, &f, BPF_ANY);
}

enum fragment_follow {
	FRAGMENT_FOLLOW = 0, /* pkt->key is now the first fragment's key */
	FRAGMENT_HOLD,       /* the first fragment is with the slow path */
	FRAGMENT_NO_FIRST,   /* drop: XDPFW_CNT_DROP_FRAGMENT_NO_FIRST */
	FRAGMENT_UNFIT,      /* drop: XDPFW_CNT_DROP_FRAGMENT */
};

/* What a later fragment (no PKT_FRAGMENT_HEAD) arriving on ifindex does;
 * may_hold: it has not been held yet (xdpfw_rx), else it is coming back
 * from the slow path. */
static __always_inline int fragment_follow(struct packet *pkt, __u32 ifindex, int may_hold)
{
	/* Offset 0 without its transport header: a first fragment too short
	 * to be judged (tiny fragment attack, RFC 1858). */
	if (pkt->frag_offset == 0)
		return FRAGMENT_UNFIT;
	struct xdpfw_fragment_key fk;
	fragment_key_of(pkt, &fk);
	struct xdpfw_fragment *f = bpf_map_lookup_elem(&xdpfw_fragments, &fk);
	if (!f)
		return FRAGMENT_NO_FIRST;
	if (bpf_ktime_get_ns() - f->first_ns > (__u64)XDPFW_FRAGMENT_TIMEOUT_MS * 1000000) {
		bpf_map_delete_elem(&xdpfw_fragments, &fk);
		return FRAGMENT_NO_FIRST;
	}
	if (f->ingress_ifindex != ifindex)
		return FRAGMENT_NO_FIRST;
	if (pkt->frag_offset < f->head_len)
		return FRAGMENT_UNFIT;
	if (f->state == XDPFW_FRAGMENT_PENDING) {
		if (may_hold)
			return FRAGMENT_HOLD;
		f->state = XDPFW_FRAGMENT_REFUSED;
		return FRAGMENT_NO_FIRST;
	}
	if (f->state != XDPFW_FRAGMENT_JUDGED)
		return FRAGMENT_NO_FIRST;
	pkt->key = f->session;
	return FRAGMENT_FOLLOW;
}

#endif
