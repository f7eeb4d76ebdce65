/* SPDX-License-Identifier: MIT */
/*
 * Flood meters: what XDP sends up to the slow path is metered, so a flood
 * cannot starve it. Every packet bound for the AF_XDP socket passes
 *
 *   the deny cache   (first packets only) a flow the policy denied moments
 *                    ago is dropped here, counted, and logged within the
 *                    POLICY_DENY event budget, as the slow path would have;
 *   its source's budget   IPv4 /32, IPv6 /64, in an LRU table: no source
 *                    takes more than its share;
 *   its class's budget    TCP SYN, other first packets, exceptions (cached
 *                    rejects, held fragments, packets too big, reroutes):
 *                    a flood of one class leaves the others theirs.
 *
 * A budget is a token bucket kept as one word, the theoretical arrival time
 * of GCRA (the virtual time at which the bucket is empty again): a packet
 * fits when that time is at most `burst` ahead of now, and moves it on by
 * one `interval`. Buckets are shared by every CPU and moved by
 * compare-and-swap, so a rate means the same whatever the number of queues;
 * a packet over budget only reads the word (a flood costs no contended
 * writes). Only packets bound for the slow path come here: the costly ones.
 *
 * The daemon writes xdpfw_flood_settings (lib/flood/) from `security flow
 * slow-path-budget` and installs deny entries; a reload bumps the
 * generation, which turns every older entry stale at once.
 */
#ifndef XDPFW_FLOOD_METER_H
#define XDPFW_FLOOD_METER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"
#include "events.h"

enum xdpfw_flood_class {
	XDPFW_FLOOD_SYN = 0,   /* a TCP SYN opening a connection */
	XDPFW_FLOOD_NEW_FLOW,  /* the first packet of any other flow */
	XDPFW_FLOOD_EXCEPTION, /* a packet of a known flow the fast path hands up */
	XDPFW_FLOOD_CLASSES,
};

enum xdpfw_flood_constants {
	XDPFW_FLOOD_SOURCES = 65536,       /* source buckets (LRU) */
	XDPFW_DENY_CACHE_ENTRIES = 65536,  /* denied flows remembered (LRU) */
};

/* One word per budget; interval 0: that budget is off. */
struct xdpfw_flood_settings {
	__u64 source_interval_ns; /* 1e9 / packets per second and source */
	__u64 source_burst_ns;    /* how far ahead of now its bucket may run (burst * interval) */
	__u64 class_interval_ns[XDPFW_FLOOD_CLASSES];
	__u64 class_burst_ns[XDPFW_FLOOD_CLASSES];
	__u64 deny_ttl_ns;        /* how long a denied flow is remembered; 0: the deny cache is off */
	__u32 generation;         /* deny entries of another generation are stale */
	__u32 pad;
};

/* IPv4: addr[0]; IPv6: the /64 in addr[0..1]. */
struct xdpfw_flood_source_key {
	__u32 family;
	__u32 addr[2];
};

/* A denied flow: its key as the packet's session key would be, and where it came in. */
struct xdpfw_deny_key {
	struct xdpfw_session_key flow;
	__u32 ifindex;
};

/* What the slow path decided, to log its repeats the same way. */
struct xdpfw_deny_entry {
	__u64 denied_ns;      /* CLOCK_MONOTONIC of the decision */
	__u32 generation;     /* of xdpfw_flood_settings when installed */
	__u32 policy_id;
	__u32 egress_ifindex;
	__u16 from_zone;
	__u16 to_zone;
	__u8 log;             /* the policy logs session-init: repeats are POLICY_DENY events too */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_flood_settings);
} xdpfw_flood_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPFW_FLOOD_SOURCES);
	__type(key, struct xdpfw_flood_source_key);
	__type(value, __u64); /* theoretical arrival time, ns */
} xdpfw_flood_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_FLOOD_CLASSES);
	__type(key, __u32); /* enum xdpfw_flood_class */
	__type(value, __u64); /* theoretical arrival time, ns */
} xdpfw_flood_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPFW_DENY_CACHE_ENTRIES);
	__type(key, struct xdpfw_deny_key);
	__type(value, struct xdpfw_deny_entry);
} xdpfw_deny_cache SEC(".maps");

/* Keep the layouts in BTF for lib/flood/layout.ts. */
struct xdpfw_deny_key xdpfw_btf_deny_key __attribute__((unused));
enum xdpfw_flood_class xdpfw_btf_flood_class __attribute__((unused));
enum xdpfw_flood_constants xdpfw_btf_flood_constants __attribute__((unused));

/* Whether one more packet fits the GCRA bucket *tat; takes its token if so. */
static __always_inline int gcra_take(__u64 *tat, __u64 now, __u64 interval, __u64 burst)
{
	for (int i = 0; i < 4; i++) { /* a lost race is retried, a bounded number of times */
		__u64 old = *(volatile __u64 *)tat;
		__u64 base = old > now ? old : now;
		if (base - now > burst)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, base + interval) == old)
			return 1;
	}
	return 0;
}

static __always_inline int source_fits(const struct xdpfw_session_key *key, __u64 now,
				       const struct xdpfw_flood_settings *s)
{
	if (!s->source_interval_ns)
		return 1;
	struct xdpfw_flood_source_key src = { .family = key->family };
	src.addr[0] = key->src_addr[0];
	if (key->family != 2 /* AF_INET */)
		src.addr[1] = key->src_addr[1];
	__u64 *tat = bpf_map_lookup_elem(&xdpfw_flood_sources, &src);
	if (tat)
		return gcra_take(tat, now, s->source_interval_ns, s->source_burst_ns);
	/* A new source: a full bucket, this packet's token taken. */
	__u64 first = now + s->source_interval_ns;
	if (!bpf_map_update_elem(&xdpfw_flood_sources, &src, &first, BPF_NOEXIST))
		return 1;
	tat = bpf_map_lookup_elem(&xdpfw_flood_sources, &src); /* another CPU added it */
	return tat ? gcra_take(tat, now, s->source_interval_ns, s->source_burst_ns) : 0;
}

/* Whether the class's bucket has a token, without taking it: a packet its
 * class would shed anyway costs no source bucket (a spoofed-source flood
 * would otherwise insert one per packet). */
static __always_inline int class_has_room(__u32 klass, __u64 now, const struct xdpfw_flood_settings *s)
{
	if (klass >= XDPFW_FLOOD_CLASSES)
		return 0;
	if (!s->class_interval_ns[klass])
		return 1;
	__u64 *tat = bpf_map_lookup_elem(&xdpfw_flood_classes, &klass);
	if (!tat)
		return 0;
	__u64 t = *(volatile __u64 *)tat;
	return t <= now || t - now <= s->class_burst_ns[klass];
}

static __always_inline int class_fits(__u32 klass, __u64 now, const struct xdpfw_flood_settings *s)
{
	if (klass >= XDPFW_FLOOD_CLASSES)
		return 0;
	__u64 interval = s->class_interval_ns[klass];
	if (!interval)
		return 1;
	__u64 *tat = bpf_map_lookup_elem(&xdpfw_flood_classes, &klass);
	return tat && gcra_take(tat, now, interval, s->class_burst_ns[klass]);
}

/* The deny cache, for a first packet: 1 when its flow was denied moments ago
 * (the caller drops it); its event, if the policy logs, within budget. */
static __always_inline int deny_cache_hit(struct xdp_md *ctx, const struct xdpfw_session_key *key,
					  __u8 icmp_type, __u64 now,
					  const struct xdpfw_flood_settings *s)
{
	if (!s->deny_ttl_ns)
		return 0;
	struct xdpfw_deny_key dk = { .ifindex = ctx->ingress_ifindex };
	__builtin_memcpy(&dk.flow, key, sizeof(dk.flow));
	struct xdpfw_deny_entry *e = bpf_map_lookup_elem(&xdpfw_deny_cache, &dk);
	if (!e || e->generation != s->generation || now - e->denied_ns > s->deny_ttl_ns)
		return 0;
	if (e->log)
		emit_budgeted_event(ctx, &xdpfw_counters, key, &(struct xdpfw_event_facts){
			.kind = XDPFW_EVENT_POLICY_DENY,
			.action = XDPFW_ACTION_DENY,
			.policy_id = e->policy_id,
			.ingress_zone = e->from_zone,
			.egress_zone = e->to_zone,
			.egress_ifindex = e->egress_ifindex,
			.icmp_type = icmp_type,
		});
	return 1;
}

/* ctx->ingress_ifindex read in a call of its own: inlined, the compiler may
 * keep a pointer into ctx, which the verifier refuses. */
__noinline __u32 xdpfw_ingress_ifindex(struct xdp_md *ctx)
{
	return ctx ? ctx->ingress_ifindex : 0;
}

/*
 * Meters a packet bound for the slow path. first_packet: it would open a
 * flow (no session); is_syn: a TCP SYN. Returns 0 when it may go up, or the
 * counter of its drop. A function of its own: verified once, not at every
 * place that sends a packet up.
 */
__noinline int xdpfw_flood_meter(struct xdp_md *ctx, const struct xdpfw_session_key *key,
				 __u32 first_packet, __u32 is_syn, __u32 icmp_type)
{
	__u32 zero = 0;
	if (!key)
		return XDPFW_CNT_DROP_MALFORMED;
	struct xdpfw_flood_settings *s = bpf_map_lookup_elem(&xdpfw_flood_settings, &zero);
	if (!s)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (first_packet && deny_cache_hit(ctx, key, icmp_type, now, s))
		return XDPFW_CNT_DENY_CACHE_HIT;
	__u32 klass = !first_packet ? XDPFW_FLOOD_EXCEPTION : is_syn ? XDPFW_FLOOD_SYN : XDPFW_FLOOD_NEW_FLOW;
	__u32 class_shed = klass == XDPFW_FLOOD_SYN ? XDPFW_CNT_SLOW_PATH_SHED_SYN
			   : klass == XDPFW_FLOOD_NEW_FLOW ? XDPFW_CNT_SLOW_PATH_SHED_NEW_FLOW
							   : XDPFW_CNT_SLOW_PATH_SHED_EXCEPTION;
	/* The source's token is taken before the class's: a one-source flood
	 * spends its own budget, not its class's. */
	if (!class_has_room(klass, now, s))
		return class_shed;
	if (!source_fits(key, now, s))
		return XDPFW_CNT_SLOW_PATH_SHED_SOURCE;
	return class_fits(klass, now, s) ? 0 : class_shed;
}

#endif
