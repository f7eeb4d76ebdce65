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

/* The key being looked up and the value a first insert writes, kept off the
 * stack: xdpfw_rx's deepest call chain is at the 512-byte limit. */
struct proxy_scratch {
	struct xdpfw_proxy_key key;
	__s64 one;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proxy_scratch);
} xdpfw_proxy_scratch SEC(".maps");

/* client_addr: the session's client address (IPv4 in [0]). */
static __always_inline struct proxy_scratch *proxy_key_of(__u16 zone, __u8 family, const __u32 *client_addr)
{
	__u32 zero = 0;
	struct proxy_scratch *s = bpf_map_lookup_elem(&xdpfw_proxy_scratch, &zero);
	if (!s)
		return NULL;
	s->key.zone = zone;
	s->key.family = family;
	s->key.pad = 0;
	__builtin_memcpy(s->key.addr, client_addr, sizeof(s->key.addr));
	s->one = 1;
	return s;
}

/* Whether the SYN's source already holds `threshold` handshake-only sessions in the zone. */
static __always_inline int proxy_full(const struct packet *pkt, __u16 zone, __u32 threshold)
{
	struct proxy_scratch *s = proxy_key_of(zone, pkt->key.family, pkt->key.src_addr);
	if (!s)
		return 0;
	__s64 *n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &s->key);
	return n && *(volatile __s64 *)n >= (__s64)threshold;
}

/* Moves the count of the client of pkt's session in `zone` by delta (+1 or -1). */
static __noinline void proxy_count(__u16 zone, const struct packet *pkt, __s64 delta)
{
	__u64 from_server = pkt->dir & 1;
	asm volatile("" : "+r"(from_server));
	/* The client is the packet's source, or its destination (the field after). */
	const __u32 *client = (const void *)pkt->key.src_addr + from_server * 16;
	struct proxy_scratch *s = proxy_key_of(zone, pkt->key.family, client);
	if (!s)
		return;
	__s64 *n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &s->key);
	if (!n) {
		if (delta < 0 || !bpf_map_update_elem(&xdpfw_proxy_pending, &s->key, &s->one, BPF_NOEXIST))
			return;
		/* Another CPU inserted it meanwhile: count in its entry. */
		n = bpf_map_lookup_elem(&xdpfw_proxy_pending, &s->key);
		if (!n)
			return;
	}
	/* Never below zero: an entry the LRU recycled meanwhile starts again at 0. */
	if (delta > 0 || *(volatile __s64 *)n > 0)
		__sync_fetch_and_add(n, delta);
}

/* Whether the zone has the syn-ack-ack-proxy screen on. */
static __always_inline int proxy_on(__u16 zone)
{
	__u32 z = zone;
	struct xdpfw_screen_profile *p = bpf_map_lookup_elem(&xdpfw_screen_profiles, &z);
	return p && p->screens & (1ull << XDPFW_SCREEN_SYN_ACK_ACK_PROXY);
}

/*
 * On the judged copy t of a connection whose state was `was & 0xff` before
 * segment (client side: !(dir & 1)) `seg_dir` carrying data or not: +1 when it
 * makes the session handshake-only (flag set in t), -1 when it ends that
 * (flag cleared in t), 0 otherwise. `was & PROXY_COUNTING`: the zone has the
 * screen on. A global function: the verifier walks it once, not once per
 * state of the retry loop that calls it.
 */
#define PROXY_COUNTING 0x100
#define PROXY_DATA 0x200
#define PROXY_FROM_SERVER 0x400
__attribute__((noinline)) int xdpfw_proxy_step(struct xdpfw_tcp_conn *t, __u32 was)
{
	if (!t)
		return 0;
	struct xdpfw_tcp_dir *cl = &t->dir[0];
	int client = !(was & PROXY_FROM_SERVER), data = !!(was & PROXY_DATA);
	__u8 before = was & 0xff;
	if (cl->flags & XDPFW_TCP_DIR_HANDSHAKE_ONLY) {
		if (t->state == XDPFW_TCP_ESTABLISHED && !(client && data))
			return 0;
		cl->flags &= ~XDPFW_TCP_DIR_HANDSHAKE_ONLY;
		return -1;
	}
	if (!(was & PROXY_COUNTING) || !client || data || t->state != XDPFW_TCP_ESTABLISHED ||
	    (before != XDPFW_TCP_SYN_RECV && before != XDPFW_TCP_SYN_SENT))
		return 0;
	cl->flags |= XDPFW_TCP_DIR_HANDSHAKE_ONLY;
	return 1;
}

#endif
