/* SPDX-License-Identifier: MIT */
/*
 * Security events from the XDP programs: the ring buffer userspace reads
 * (lib/events) and emit_event(), the one way to write a record into it.
 *
 * Self-contained: the caller passes its per-CPU counter map to emit_event()
 * so a record lost to a full ring is counted in XDPFW_CNT_EVENT_RESERVE_FAIL
 * (packets: events lost, bytes: the bytes of the packets they were about).
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
			c->bytes += ctx->data_end - ctx->data;
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

#endif
