/* SPDX-License-Identifier: MIT */
/*
 * Security events from the XDP programs: the ring buffer userspace reads
 * (lib/events) and emit_event(), the one way to write a record into it.
 *
 * Self-contained: the caller passes its per-CPU counter map to emit_event()
 * so a record lost to a full ring is counted in XDPFW_CNT_EVENT_RESERVE_FAIL
 * (packets: events lost, bytes: the bytes of the packets they were about).
 *
 * Budgets: a packet flood must never mean one ring record per packet, or it
 * fills the ring and starves every other event. emit_budgeted_event() lets
 * through at most the kind's rate (xdpfw_event_rates, written by the daemon
 * from `system syslog rate-limit`, the slow path's rates) per second and
 * (ingress zone, kind); screens budget per (zone, screen) the same way. The
 * budget is shared by every CPU (one atomic window word), so a rate means
 * the same whatever the number of queues. Events over budget are counted in
 * xdpfw_event_suppressed by kind, before any ring reservation.
 */
#ifndef XDPFW_EVENTS_H
#define XDPFW_EVENTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"

/* 7281 records of 136 + 8 header bytes: room for a burst while userspace
 * drains in batches. Past it, events are counted lost; nothing waits. */
#define XDPFW_EVENT_RING_BYTES (1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPFW_EVENT_RING_BYTES);
} xdpfw_events SEC(".maps");

/* Events per second XDP may write, by enum xdpfw_event_kind; 0: the default
 * XDPFW_XDP_EVENTS_PER_SECOND. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_EVENT_KIND_SLOTS);
	__type(key, __u32); /* enum xdpfw_event_kind */
	__type(value, __u32);
} xdpfw_event_rates SEC(".maps");

/* Events written this second per (ingress zone, kind), as a window word. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_ZONES * XDPFW_EVENT_KIND_SLOTS);
	__type(key, __u32); /* zone id * XDPFW_EVENT_KIND_SLOTS + kind */
	__type(value, __u64);
} xdpfw_event_budget SEC(".maps");

/* Events not written because their budget was spent, by kind (packets: the
 * events, bytes: the bytes of the packets they were about). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPFW_EVENT_KIND_SLOTS);
	__type(key, __u32); /* enum xdpfw_event_kind */
	__type(value, struct xdpfw_counter_value);
} xdpfw_event_suppressed SEC(".maps");

_Static_assert(XDPFW_EVENT_FILTER_LOG < XDPFW_EVENT_KIND_SLOTS, "enum xdpfw_event_kind outgrew XDPFW_EVENT_KIND_SLOTS");

#define NSEC_PER_SEC 1000000000ULL

/*
 * The second of CLOCK_MONOTONIC_COARSE, wanted on every packet a budget or
 * a rate judges. The coarse clock and jiffies move together at the tick
 * (jiffies first), so once the clock has been read, its second cannot end
 * before as many ticks as what was left of it holds at the longest tick
 * there is (HZ 100, with room for NTP slew). Until then the answer comes
 * from one word every CPU reads (a load of jiffies instead of a clock read
 * and a division); the clock is read again a few times a second, and on
 * every packet of the last tick or so of each second.
 */
#define SECOND_TICK_NS_MAX 11000000ULL
#define SECOND_TICKS_MAX 128 /* more than a second's worth at SECOND_TICK_NS_MAX */

/* The cached second (high half) and the low half of the jiffies it holds
 * until; a global variable: per object, never pinned, rarely written. */
__u64 xdpfw_second_word = 0;

/* this_second()'s body, inlined where a caller's frame has room for it (a
 * call costs as much as the rest of it). */
static __always_inline __u32 second_now(void)
{
	__u32 j = (__u32)bpf_jiffies64();
	__u64 word = *(volatile __u64 *)&xdpfw_second_word;
	if ((__u32)word - j - 1 < SECOND_TICKS_MAX)
		return word >> 32;
	__u64 ns = bpf_ktime_get_coarse_ns();
	__u32 sec = ns / NSEC_PER_SEC;
	/* j may be a tick ahead of ns: one tick fewer than what is left. */
	__u32 span = (NSEC_PER_SEC - ns % NSEC_PER_SEC - 1) / SECOND_TICK_NS_MAX;
	__u64 next = (__u64)sec << 32 | (__u32)(j + span);
	if (span && next != word)
		*(volatile __u64 *)&xdpfw_second_word = next;
	return sec;
}

/* A global function: inlined, its registers would grow the stack frames of
 * callers already at the verifier's limit. */
__noinline __u32 this_second(void)
{
	return second_now();
}

/*
 * Counts one packet in the window word *w for window `win` and returns the
 * window's count with it. Past `cap` the word is only read: a flood under
 * way costs no contended writes.
 */
static __always_inline __u32 window_count(__u64 *w, __u32 win, __u32 cap)
{
	__u64 old = *(volatile __u64 *)w;
	if ((__u32)(old >> 32) == win) {
		if ((__u32)old > cap)
			return (__u32)old;
		return (__u32)__sync_fetch_and_add(w, 1) + 1;
	}
	if (__sync_val_compare_and_swap(w, old, ((__u64)win << 32) | 1) == old)
		return 1;
	/* Another CPU opened the window first: count in it. */
	return (__u32)__sync_fetch_and_add(w, 1) + 1;
}


/* The per-second budget of a kind of event. */
static __always_inline __u32 event_rate(__u32 kind)
{
	__u32 *rate = bpf_map_lookup_elem(&xdpfw_event_rates, &kind);
	return rate && *rate ? *rate : XDPFW_XDP_EVENTS_PER_SECOND;
}

/* An event of `kind` not written, about a frame of len bytes (the whole
 * frame, multi-buffer too). */
static __always_inline void event_suppressed_len(__u32 kind, __u32 len)
{
	struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_event_suppressed, &kind);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void event_suppressed(struct xdp_md *ctx, __u32 kind)
{
	event_suppressed_len(kind, bpf_xdp_get_buff_len(ctx));
}

/* Whether an event of `kind` about a packet from zone `zone` fits in this
 * second's budget; if not, it is counted suppressed. Zones past
 * XDPFW_MAX_ZONES share zone 0's budget. */
static __always_inline int event_budget(struct xdp_md *ctx, __u32 kind, __u16 zone)
{
	__u32 slot = (zone < XDPFW_MAX_ZONES ? zone : 0) * XDPFW_EVENT_KIND_SLOTS + (kind & (XDPFW_EVENT_KIND_SLOTS - 1));
	__u64 *w = bpf_map_lookup_elem(&xdpfw_event_budget, &slot);
	__u32 rate = event_rate(kind);
	if (w && window_count(w, this_second(), rate) <= rate)
		return 1;
	event_suppressed(ctx, kind);
	return 0;
}

/* What the emitting program knows beyond the packet's key; fields a kind
 * does not use stay 0. Usually a compound literal, which inlining turns
 * into plain stores. */
struct xdpfw_event_facts {
	__u64 session_id;
	__u32 egress_ifindex;
	__u32 policy_id;
	__u32 filter_id;
	__u32 term_id;
	__u16 ingress_zone;
	__u16 egress_zone;
	__u8 kind;          /* enum xdpfw_event_kind */
	__u8 action;        /* enum xdpfw_event_action */
	__u8 filter_source; /* enum xdpfw_filter_source */
	__u8 screen_id;     /* enum xdpfw_screen */
	__u8 icmp_type;
};

/*
 * Writes one event about the packet in ctx, keyed as `key` (its addresses,
 * ports, family and protocol are copied), stamped with CLOCK_MONOTONIC and
 * the ingress interface. Returns 0, or -1 when the ring is full: the event
 * is then counted in `counters` (the per-CPU struct xdpfw_counter_value
 * array, e.g. &xdpfw_counters) and the caller carries on with its verdict.
 */
static __always_inline int emit_event(struct xdp_md *ctx, void *counters,
				      const struct xdpfw_session_key *key,
				      const struct xdpfw_event_facts *facts)
{
	struct xdpfw_event *ev = bpf_ringbuf_reserve(&xdpfw_events, sizeof(*ev), 0);
	if (!ev) {
		__u32 idx = XDPFW_CNT_EVENT_RESERVE_FAIL;
		struct xdpfw_counter_value *c = bpf_map_lookup_elem(counters, &idx);
		if (c) {
			c->packets++;
			c->bytes += bpf_xdp_get_buff_len(ctx); /* the whole frame, multi-buffer too */
		}
		return -1;
	}
	/* Ring memory is not zeroed: clear it so no stale bytes reach userspace. */
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->version = XDPFW_EVENT_VERSION;
	ev->kind = facts->kind;
	ev->family = key->family;
	ev->protocol = key->protocol;
	ev->action = facts->action;
	ev->filter_source = facts->filter_source;
	ev->icmp_type = facts->icmp_type;
	ev->src_port = key->src_port;
	ev->dst_port = key->dst_port;
	ev->ingress_zone = facts->ingress_zone;
	ev->egress_zone = facts->egress_zone;
	ev->ingress_ifindex = ctx->ingress_ifindex;
	ev->egress_ifindex = facts->egress_ifindex;
	ev->policy_id = facts->policy_id;
	ev->filter_id = facts->filter_id;
	ev->term_id = facts->term_id;
	ev->screen_id = facts->screen_id;
	ev->monotonic_ns = bpf_ktime_get_ns();
	ev->session_id = facts->session_id;
	__builtin_memcpy(ev->src_addr, key->src_addr, sizeof(ev->src_addr));
	__builtin_memcpy(ev->dst_addr, key->dst_addr, sizeof(ev->dst_addr));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* emit_event() within the budget of the event's kind and ingress zone;
 * returns -1 without touching the ring when the budget is spent. */
static __always_inline int emit_budgeted_event(struct xdp_md *ctx, void *counters,
					       const struct xdpfw_session_key *key,
					       const struct xdpfw_event_facts *facts)
{
	if (!event_budget(ctx, facts->kind, facts->ingress_zone))
		return -1;
	return emit_event(ctx, counters, key, facts);
}

#endif
