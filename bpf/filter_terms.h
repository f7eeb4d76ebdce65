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
					__u32 dscp, __u32 icmp_type, __u32 icmp_code, __u32 len)
{
	__u32 conds = t->conds;
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
 * with these fields (icmp: type | code << 8), or -1 when there is no such
 * program. A global function: the verifier checks it once, on its own,
 * instead of at every place a filter verdict is replayed. */
__attribute__((noinline)) int xdpfw_filter_program_match(__u32 index, __u32 tcp_flags, __u32 dscp,
							  __u32 icmp, __u32 len)
{
	const struct xdpfw_filter_program *p = bpf_map_lookup_elem(&xdpfw_filter_programs, &index);
	if (!p)
		return -1;
	__u32 n = p->terms;
	for (__u32 i = 0; i < XDPFW_FILTER_PROGRAM_TERMS; i++) {
		if (i >= n)
			break;
		if (i + 1 == n || term_matches(&p->term[i], tcp_flags, dscp, icmp & 0xff, icmp >> 8, len))
			return i;
	}
	return -1;
}

/* The verdict of the program at `index` for this packet: its first term
 * that matches. NULL when there is no such program (a slot the slow path
 * has not written, an index past the table): the caller fails closed. */
static __always_inline const struct xdpfw_filter_verdict *
run_filter_program(__u32 index, const struct packet *pkt)
{
	/* A non-first fragment has no transport header for the terms to
	 * judge: it must follow its first fragment's verdict, never this. */
	if ((pkt->flags & PKT_FRAGMENT) && pkt->frag_offset)
		return NULL;
	int i = xdpfw_filter_program_match(index, pkt->tcp_flags, packet_dscp(pkt),
					   pkt->icmp_type | (__u32)pkt->icmp_code << 8, pkt->l3_len);
	if (i < 0 || i >= XDPFW_FILTER_PROGRAM_TERMS)
		return NULL;
	const struct xdpfw_filter_program *p = bpf_map_lookup_elem(&xdpfw_filter_programs, &index);
	if (!p)
		return NULL;
	return &p->term[i].verdict;
}

#endif
