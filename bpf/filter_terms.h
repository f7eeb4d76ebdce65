/* SPDX-License-Identifier: MIT */
/*
 * Per-packet firewall filter terms.
 *
 * The slow path judges a flow's filters on its first packet. Conditions on
 * the addresses, the protocol and the ports are the same for every packet
 * of the flow; conditions on tcp-flags, dscp (traffic-class), icmp-type,
 * icmp-code and packet-length are not. For each direction and attach point
 * the slow path (lib/filter/residual.ts) keeps the terms whose flow-constant
 * conditions match the flow, in order, each reduced to its per-packet
 * conditions, up to and including the first term left with none: that one
 * always matches, so every program ends in a verdict. That residual program
 * is interned here (one copy per distinct program, shared by every flow
 * that has it) and the session's cached verdict names it; XDP runs it on
 * every packet with the semantics of lib/filter/engine.ts: the first term
 * whose conditions all match decides, counts and logs.
 *
 * Programs judge packets that carry their transport header (whole packets
 * and first fragments); a non-first fragment follows its first fragment
 * (one that reaches a program is dropped, counted as a filter drop).
 */
#ifndef XDPFW_FILTER_TERMS_H
#define XDPFW_FILTER_TERMS_H

#include "parse.h"

enum xdpfw_filter_program_limits {
	XDPFW_FILTER_PROGRAM_TERMS = 8,  /* terms of one residual program; more: judged in the slow path */
	XDPFW_FILTER_LENGTH_RANGES = 4,  /* packet-length ranges of one term; more: judged in the slow path */
	XDPFW_MAX_FILTER_PROGRAMS = 4096, /* interned programs, index 0 unused ("no program") */
	XDPFW_MAX_POLICERS = 1024,        /* policer buckets (one per term naming a policer), index 0 unused */
	/* The verdict's program when the program did not fit (or the table was
	 * full): every packet of the flow goes to the slow path, counted in
	 * XDPFW_CNT_FILTER_PROGRAM_SLOW_PATH. Any index at or above it does. */
	XDPFW_FILTER_PROGRAM_SLOW_PATH = XDPFW_MAX_FILTER_PROGRAMS,
};

/* The per-packet conditions a term has; a condition it lacks matches. */
enum xdpfw_filter_term_conds {
	XDPFW_TERM_TCP_FLAGS = 1,
	XDPFW_TERM_DSCP = 2,
	XDPFW_TERM_ICMP_TYPE = 4,
	XDPFW_TERM_ICMP_CODE = 8,
	XDPFW_TERM_PACKET_LENGTH = 16,
	XDPFW_TERM_TTL = 32,
};

struct xdpfw_filter_term {
	struct xdpfw_filter_verdict verdict; /* what the term decides (its program is 0) */
	__u32 conds;            /* enum xdpfw_filter_term_conds */
	__u32 tcp_flags[2];     /* truth table: bit f set when the flags f (low 6 bits) match */
	__u32 dscp[2];          /* bit d set when DSCP d matches */
	__u32 icmp_type[8];     /* bit t set when type t matches */
	__u32 icmp_code[8];
	__u16 length_low[XDPFW_FILTER_LENGTH_RANGES];  /* IP packet length ranges, inclusive; */
	__u16 length_high[XDPFW_FILTER_LENGTH_RANGES]; /* unused ones are empty (low 1, high 0) */
	__u32 ttl[8];           /* bit t set when the IPv4 TTL / IPv6 hop limit t matches */
	__u32 policer;          /* `then policer`: its bucket in xdpfw_policers; 0: none */
};

struct xdpfw_filter_program {
	__u32 terms; /* 1..XDPFW_FILTER_PROGRAM_TERMS; the last term has no condition */
	__u32 pad;
	struct xdpfw_filter_term term[XDPFW_FILTER_PROGRAM_TERMS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_FILTER_PROGRAMS);
	__type(key, __u32);
	__type(value, struct xdpfw_filter_program);
} xdpfw_filter_programs SEC(".maps");

/*
 * `firewall policer`: a token bucket of IP bytes, refilled at `rate` up to
 * `burst`. One bucket per term that names a policer (Junos's default,
 * term-specific); the slow path writes rate, burst and fill_ns at every
 * configuration (a full bucket) and XDP keeps tokens and last_ns. One bucket
 * shared by every CPU under its spin lock, so the limit holds whatever CPU
 * a packet arrives on: per-CPU buckets would each admit the full rate.
 */
struct xdpfw_policer {
	__u64 rate;    /* bytes per second (bandwidth-limit / 8); 0: unconfigured, every packet exceeds */
	__u64 burst;   /* bytes (burst-size-limit) */
	__u64 fill_ns; /* time to fill an empty bucket: burst * 1e9 / rate */
	__u64 tokens;  /* bytes */
	__u64 last_ns; /* the time the tokens were refilled up to */
	struct bpf_spin_lock lock;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPFW_MAX_POLICERS);
	__type(key, __u32);
	__type(value, struct xdpfw_policer);
} xdpfw_policers SEC(".maps");

/* Packets and IP bytes each bucket discarded. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPFW_MAX_POLICERS);
	__type(key, __u32);
	__type(value, struct xdpfw_counter_value);
} xdpfw_policer_drops SEC(".maps");

enum xdpfw_filter_program_limits xdpfw_btf_filter_program_limits __attribute__((unused));
enum xdpfw_filter_term_conds xdpfw_btf_filter_term_conds __attribute__((unused));

static __always_inline int bit_set(const __u32 *words, __u32 bit)
{
	return (words[bit >> 5] >> (bit & 31)) & 1;
}

static __always_inline __u32 packet_dscp(const struct packet *pkt)
{
	if (pkt->ip4)
		return pkt->ip4->tos >> 2;
	if (pkt->ip6)
		return ((pkt->ip6->priority << 4) | (pkt->ip6->flow_lbl[0] >> 4)) >> 2;
	return 0;
}

static __always_inline int term_matches(const struct xdpfw_filter_term *t, __u32 tcp_flags,
					__u32 dscp, __u32 icmp_type, __u32 icmp_code, __u32 len, __u32 ttl)
{
	__u32 conds = t->conds;
	if ((conds & XDPFW_TERM_TTL) && !bit_set(t->ttl, ttl & 0xff))
		return 0;
	if ((conds & XDPFW_TERM_TCP_FLAGS) && !bit_set(t->tcp_flags, tcp_flags & 0x3f))
		return 0;
	if ((conds & XDPFW_TERM_DSCP) && !bit_set(t->dscp, dscp & 0x3f))
		return 0;
	if ((conds & XDPFW_TERM_ICMP_TYPE) && !bit_set(t->icmp_type, icmp_type & 0xff))
		return 0;
	if ((conds & XDPFW_TERM_ICMP_CODE) && !bit_set(t->icmp_code, icmp_code & 0xff))
		return 0;
	if (conds & XDPFW_TERM_PACKET_LENGTH) {
		int in = 0;
#pragma unroll
		for (int r = 0; r < XDPFW_FILTER_LENGTH_RANGES; r++)
			in |= len >= t->length_low[r] && len <= t->length_high[r];
		if (!in)
			return 0;
	}
	return 1;
}

/* The index of the first term of program `index` that matches a packet
 * with these fields (icmp: type | code << 8, ttl_dscp: ttl << 8 | dscp),
 * or -1 when there is no such program. A global function: the verifier
 * checks it once, on its own, instead of at every place a filter verdict
 * is replayed. */
__attribute__((noinline)) int xdpfw_filter_program_match(__u32 index, __u32 tcp_flags, __u32 ttl_dscp,
							  __u32 icmp, __u32 len)
{
	__u32 dscp = ttl_dscp & 0xff, ttl = ttl_dscp >> 8;
	const struct xdpfw_filter_program *p = bpf_map_lookup_elem(&xdpfw_filter_programs, &index);
	if (!p)
		return -1;
	__u32 n = p->terms;
	for (__u32 i = 0; i < XDPFW_FILTER_PROGRAM_TERMS; i++) {
		if (i >= n)
			break;
		if (i + 1 == n || term_matches(&p->term[i], tcp_flags, dscp, icmp & 0xff, icmp >> 8, len, ttl))
			return i;
	}
	return -1;
}

static __always_inline __u32 packet_ttl(const struct packet *pkt)
{
	if (pkt->ip4)
		return pkt->ip4->ttl;
	if (pkt->ip6)
		return pkt->ip6->hop_limit;
	return 0;
}

/* The term of the program at `index` that decides this packet: its first
 * term that matches. NULL when there is no such program (a slot the slow
 * path has not written, an index past the table): the caller fails closed. */
static __always_inline const struct xdpfw_filter_term *
run_filter_program(__u32 index, const struct packet *pkt)
{
	/* A non-first fragment has no transport header for the terms to
	 * judge: it must follow its first fragment's verdict, never this. */
	if ((pkt->flags & PKT_FRAGMENT) && pkt->frag_offset)
		return NULL;
	int i = xdpfw_filter_program_match(index, pkt->tcp_flags, packet_dscp(pkt) | packet_ttl(pkt) << 8,
					   pkt->icmp_type | (__u32)pkt->icmp_code << 8, pkt->l3_len);
	if (i < 0 || i >= XDPFW_FILTER_PROGRAM_TERMS)
		return NULL;
	const struct xdpfw_filter_program *p = bpf_map_lookup_elem(&xdpfw_filter_programs, &index);
	if (!p)
		return NULL;
	return &p->term[i];
}

/* Charges `len` bytes to bucket `index`: 1 when it had them (the packet
 * conforms), 0 when it exceeds (or the bucket is unconfigured: fail closed).
 * Tokens are added for whole bytes only, and last_ns moves by the time
 * those bytes took, so frequent small refills lose nothing. */
__attribute__((noinline)) int xdpfw_police(__u32 index, __u32 len)
{
	__u64 now = bpf_ktime_get_ns();
	struct xdpfw_policer *b = bpf_map_lookup_elem(&xdpfw_policers, &index);
	if (!b)
		return 0;
	int conform = 0;
	bpf_spin_lock(&b->lock);
	if (b->rate) {
		__u64 elapsed = now > b->last_ns ? now - b->last_ns : 0;
		if (elapsed >= b->fill_ns) {
			b->tokens = b->burst;
			b->last_ns = now;
		} else {
			__u64 add = elapsed * b->rate / 1000000000ULL;
			if (add) {
				if (b->tokens + add >= b->burst) {
					b->tokens = b->burst;
					b->last_ns = now;
				} else {
					b->tokens += add;
					b->last_ns += add * 1000000000ULL / b->rate;
				}
			}
		}
		if (b->tokens >= len) {
			b->tokens -= len;
			conform = 1;
		}
	}
	bpf_spin_unlock(&b->lock);
	if (!conform) {
		struct xdpfw_counter_value *c = bpf_map_lookup_elem(&xdpfw_policer_drops, &index);
		if (c) {
			c->packets++;
			c->bytes += len;
		}
	}
	return conform;
}

/* The policer of the term of program `index` that decides this packet:
 * 0 when it has none or the packet conforms, 1 when the packet exceeds it.
 * For the first packet of a flow, which the slow path judged: its bucket is
 * the same one XDP charges for the flow's later packets. */
static __always_inline int first_packet_exceeds(__u32 index, const struct packet *pkt)
{
	if (!index || index >= XDPFW_FILTER_PROGRAM_SLOW_PATH)
		return 0;
	const struct xdpfw_filter_term *t = run_filter_program(index, pkt);
	if (!t || !t->policer || t->verdict.action != XDPFW_FILTER_ACTION_ACCEPT)
		return 0;
	return !xdpfw_police(t->policer, pkt->l3_len);
}

#endif
