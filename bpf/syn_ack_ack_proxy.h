/* SPDX-License-Identifier: MIT */
/*
 * The syn-ack-ack-proxy screen (Junos `tcp syn-ack-ack-proxy threshold N`):
 * a source that completes TCP handshakes and then sends nothing holds
 * session-table slots without using them. Once one source holds N such
 * sessions in a zone, its further connection requests (SYNs) are dropped
 * until some of them send data or end.
 *
 * The session stage (bpf/tcp_state.h) decides, on the copy of a connection
 * it writes back, when a session becomes handshake-only (the client's ACK of
 * the SYN-ACK, in a zone with the screen on: XDPFW_TCP_DIR_HANDSHAKE_ONLY is
 * set) and when it stops being one (the client sends data, or the
 * connection leaves the established state: the flag is cleared). The CPU
 * whose store carried the change moves the source's count, so each session
 * is counted once and given back once. A session the slow path removes
 * while still flagged (idle timeout, clear, policy change) is given back by
 * lib/screens/syn-ack-ack-proxy.ts.
 *
 * Counts live in an LRU hash, as the other per-source meters: a flood of
 * spoofed sources recycles the coldest entries (forgetting them can only
 * let a source through, never block one wrongly).
 */
#ifndef XDPFW_SYN_ACK_ACK_PROXY_H
#define XDPFW_SYN_ACK_ACK_PROXY_H

#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xdpfw_proxy_key);
	__type(value, __s64); /* handshake-only sessions of the source */
} xdpfw_proxy_pending SEC(".maps");

static __always_inline void proxy_key_of(struct xdpfw_proxy_key *k, __u16 zone, const struct xdpfw_session_key *client)
{
	k->zone = zone;
	k->family = client->family;
	k->pad = 0;
	__builtin_memcpy(k->addr, client->src_addr, sizeof(k->addr));
}

/* Whether the SYN's source already holds `threshold` handshake-only sessions in the zone. */
static __always_inline int proxy_full(const struct packet *pkt, __u16 zone, __u32 threshold)
{
	struct xdpfw_proxy_key k;
	proxy_key_of(&k, zone, &pkt->key);
	__s64 *n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &k);
	return n && *(volatile __s64 *)n >= (__s64)threshold;
}

/* Moves the count of the session's client (owner key `client`) in `zone` by delta (+1 or -1). */
static __noinline void proxy_count(__u16 zone, const struct xdpfw_session_key *client, __s64 delta)
{
	struct xdpfw_proxy_key k;
	proxy_key_of(&k, zone, client);
	__s64 *n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &k);
	if (n) {
		/* Never below zero: an entry the LRU recycled meanwhile starts again at 0. */
		if (delta > 0 || *(volatile __s64 *)n > 0)
			__sync_fetch_and_add(n, delta);
		return;
	}
	if (delta < 0)
		return;
	__s64 one = 1;
	if (bpf_map_update_elem(&xdpfw_proxy_pending, &k, &one, BPF_NOEXIST)) {
		/* Another CPU inserted it meanwhile: count in its entry. */
		n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &k);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
}

/* The threshold of the zone's syn-ack-ack-proxy screen; 0 when it is off. */
static __always_inline __u32 proxy_threshold(__u16 zone)
{
	__u32 z = zone;
	struct xdpfw_screen_profile *p = bpf_map_lookup_elem(&xdpfw_screen_profiles, &z);
	if (!p || !(p->screens & (1ull << XDPFW_SCREEN_SYN_ACK_ACK_PROXY)))
		return 0;
	return p->syn_ack_ack_proxy;
}

/*
 * On the judged copy t of a connection (state `was` before a segment from
 * the client or not, carrying data or not):
 * +1 when this segment makes the session handshake-only (flag set in t),
 * -1 when it ends that (flag cleared in t), 0 otherwise. Only the client's
 * ACK that completes the handshake looks the zone's profile up.
 */
static __always_inline int proxy_transition(struct xdpfw_tcp_conn *t, __u8 was, int client, int data, __u16 zone)
{
	struct xdpfw_tcp_dir *cl = &t->dir[0];
	if (cl->flags & XDPFW_TCP_DIR_HANDSHAKE_ONLY) {
		if (t->state == XDPFW_TCP_ESTABLISHED && !(client && data))
			return 0;
		cl->flags &= ~XDPFW_TCP_DIR_HANDSHAKE_ONLY;
		return -1;
	}
	if (!client || data || t->state != XDPFW_TCP_ESTABLISHED ||
	    (was != XDPFW_TCP_SYN_RECV && was != XDPFW_TCP_SYN_SENT) || !proxy_threshold(zone))
		return 0;
	cl->flags |= XDPFW_TCP_DIR_HANDSHAKE_ONLY;
	return 1;
}

#endif
