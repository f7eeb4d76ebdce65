/* SPDX-License-Identifier: MIT */
/*
 * Packet-drop monitor (`xdpfw monitor packet-drop`): every XDP drop passes
 * through count(), which calls drop_monitor_note(). While nobody watches,
 * xdpfw_drop_watch holds 0 and the note is one array lookup on the drop path
 * only; forwarding never reaches it. While a watcher is attached the daemon
 * writes a per-CPU budget of records per second; each record carries the
 * drop counter (its name is the reason), where the packet came in and its
 * first bytes, which userspace parses. Drops over the budget, or lost to a
 * full ring, are only counted (per CPU), so the watcher can say how many it
 * did not see and a flood never costs more than the budget.
 */
#ifndef XDPFW_DROP_MONITOR_H
#define XDPFW_DROP_MONITOR_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"

enum xdpfw_drop_monitor_constants {
	XDPFW_DROP_CAPTURE = 128,        /* first bytes of the dropped frame in a record */
	XDPFW_DROP_RING_BYTES = 1 << 18, /* about 1600 records in flight */
};

/* Written by the daemon: 0 while nobody watches. */
struct xdpfw_drop_watch {
	__u32 per_second; /* records per second and CPU */
	__u32 pad;
};

/* Per CPU: this second's records, and the drops not recorded. */
struct xdpfw_drop_budget {
	__u64 window_ns;   /* start of the one-second window `used` counts in (coarse monotonic) */
	__u64 used;
	__u64 over_budget; /* drops past per_second */
	__u64 ring_full;   /* drops whose record found the ring full */
};

/* One dropped packet, as the ring carries it. */
struct xdpfw_drop_record {
	__u64 monotonic_ns;
	__u32 counter;   /* enum xdpfw_counter that counted the drop */
	__u32 detail;    /* by counter: the screen (DROP_SCREEN), else 0 */
	__u32 ifindex;   /* ingress */
	__u32 rx_queue;
	__u32 frame_len; /* the whole frame */
	__u32 captured;  /* bytes of it in data */
	__u8 data[XDPFW_DROP_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_drop_watch);
} xdpfw_drop_watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_drop_budget);
} xdpfw_drop_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPFW_DROP_RING_BYTES);
} xdpfw_drops SEC(".maps");

struct xdpfw_drop_record xdpfw_btf_drop_record __attribute__((unused));
struct xdpfw_drop_budget xdpfw_btf_drop_budget __attribute__((unused));
struct xdpfw_drop_watch xdpfw_btf_drop_watch __attribute__((unused));
enum xdpfw_drop_monitor_constants xdpfw_btf_drop_monitor_constants __attribute__((unused));

/* The watch map's only key, where no stack is spent on it. */
static const __u32 drop_watch_key = 0;

/* Whether a watcher is attached: checked inline so an unwatched drop costs
 * one array lookup and no call. */
static __always_inline int drop_monitor_watched(void)
{
	struct xdpfw_drop_watch *w = bpf_map_lookup_elem(&xdpfw_drop_watch, &drop_watch_key);
	return w && w->per_second;
}

/* A global function: verified once, whatever the number of call sites. */
__noinline int drop_monitor_record(struct xdp_md *ctx, __u32 counter, __u32 detail)
{
	__u32 zero = 0;
	struct xdpfw_drop_watch *w = bpf_map_lookup_elem(&xdpfw_drop_watch, &zero);
	if (!w || !w->per_second)
		return 0;
	__u32 per_second = w->per_second;
	struct xdpfw_drop_budget *b = bpf_map_lookup_elem(&xdpfw_drop_budget, &zero);
	if (!b)
		return 0;
	__u64 now = bpf_ktime_get_coarse_ns();
	if (now - b->window_ns >= 1000000000ULL) {
		b->window_ns = now;
		b->used = 0;
	}
	if (b->used >= per_second) {
		b->over_budget++;
		return 0;
	}
	b->used++;
	struct xdpfw_drop_record *r = bpf_ringbuf_reserve(&xdpfw_drops, sizeof(*r), 0);
	if (!r) {
		b->ring_full++;
		return 0;
	}
	__u32 len = bpf_xdp_get_buff_len(ctx);
	r->monotonic_ns = bpf_ktime_get_ns();
	r->counter = counter;
	r->detail = detail;
	r->ifindex = ctx->ingress_ifindex;
	r->rx_queue = ctx->rx_queue_index;
	r->frame_len = len;
	__builtin_memset(r->data, 0, sizeof(r->data));
	r->captured = 0;
	if (len >= XDPFW_DROP_CAPTURE) {
		if (bpf_xdp_load_bytes(ctx, 0, r->data, XDPFW_DROP_CAPTURE) == 0)
			r->captured = XDPFW_DROP_CAPTURE;
	} else {
		/* Bounded where the verifier sees it (len < 128 here, so unchanged). */
		__u64 n = len;
		asm volatile("%[n] &= 0x7f" : [n] "+r"(n));
		if (n > 0 && bpf_xdp_load_bytes(ctx, 0, r->data, n) == 0)
			r->captured = n;
	}
	bpf_ringbuf_submit(r, 0);
	return 0;
}

#endif
