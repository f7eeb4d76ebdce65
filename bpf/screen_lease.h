/* SPDX-License-Identifier: MIT */
/*
 * Flood rates counted per CPU, reconciled through the shared window word.
 *
 * Every (zone, screen, address[, port]) rate has one window word in
 * xdpfw_screen_rates (screens.h) that every CPU shares: the window and how
 * many counts of it have been handed out. A CPU takes counts from it in
 * leases (one atomic add for many packets) and numbers its own packets from
 * its lease in its per-CPU slot, with no shared write. Every count is
 * handed out once, so the packets past a threshold are the same number
 * whatever the CPUs they arrived on; only a lease a CPU stops using
 * strands counts. Leases stay small enough for that to cost little:
 *   - the first lease of a key in a slot is one count (a cold key, or slots
 *     taken in turn by many keys, counts exactly, one atomic per packet);
 *   - each further lease of the same key doubles, up to 1/64 of what is
 *     left under the cap: with N CPUs at most N/64 of a threshold strands
 *     (3% with two);
 *   - once the window word is past the cap, the CPU notes it and drops the
 *     rest of the window from its slot alone, reading nothing shared.
 */
#ifndef XDPFW_SCREEN_LEASE_H
#define XDPFW_SCREEN_LEASE_H

#include "parse.h"
#include "events.h"

/* What one rate is counted for: a zone's screen and one address, plus the
 * destination port for the SYN flood attack threshold. */
struct screen_rate_key {
	__u16 zone;
	__u8 screen;
	__u8 family;
	__u16 port;
	__u16 pad;
	__u32 addr[4];
};

/* LRU: a flood of spoofed sources recycles the coldest entries, and the
 * hot ones (the flooded destination) stay. Per-CPU LRU lists keep inserts
 * from contending on one lock; the entries themselves are shared. */
#define SCREEN_STATE_ENTRIES 65536

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, SCREEN_STATE_ENTRIES);
	__type(key, struct screen_rate_key);
	__type(value, __u64); /* window word */
} xdpfw_screen_rates SEC(".maps");

#define LEASE_SLOT_BITS 10
#define LEASE_SLOTS (1u << LEASE_SLOT_BITS)
#define LEASE_MAX_SHIFT 6  /* a lease is at most 1/64 of what is left under the cap */
#define LEASE_MAX_GROWTH 16 /* doublings */

/* One CPU's lease on one key's count in one window. */
struct screen_lease {
	struct screen_rate_key key;
	__u32 win;
	__u32 cap;
	__u32 next;   /* the count the next packet gets; past cap: the window is full */
	__u32 end;    /* one past the last count leased */
	__u32 growth; /* leases of this key in this slot so far */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEASE_SLOTS);
	__type(key, __u32);
	__type(value, struct screen_lease);
} xdpfw_screen_leases SEC(".maps");

_Static_assert(sizeof(struct screen_rate_key) == 24, "screen_rate_key is compared as three words");

static __always_inline __u32 lease_slot(const struct screen_rate_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = w[0] ^ (w[1] * 0x85ebca6b) ^ w[2] ^ w[3] ^ w[4] ^ w[5];
	return (h * 0x9e3779b1) >> (32 - LEASE_SLOT_BITS);
}

static __always_inline int same_rate_key(const struct screen_rate_key *a, const struct screen_rate_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
}

/*
 * Counts one packet in the window word *w for window `win` and returns the
 * window's count with it, all CPUs together. Past `cap` the word is only
 * read: a flood under way costs no contended writes.
 */
static __always_inline __u32 shared_count(struct screen_rate_key *k, __u32 win, __u32 cap)
{
	__u64 *w = bpf_map_lookup_elem(&xdpfw_screen_rates, k);
	if (!w) {
		__u64 first = ((__u64)win << 32) | 1;
		if (!bpf_map_update_elem(&xdpfw_screen_rates, k, &first, BPF_NOEXIST))
			return 1;
		/* Another CPU inserted it meanwhile: count in its entry. */
		w = bpf_map_lookup_elem(&xdpfw_screen_rates, k);
		if (!w)
			return 1;
	}
	return window_count(w, win, cap);
}

/* Takes `want` counts of window `win` from k's shared word: returns the
 * first (the later ones follow it), or a number past cap when the window
 * is full. */
static __always_inline __u32 lease_take(struct screen_rate_key *k, __u32 win, __u32 cap, __u32 want)
{
	__u64 *w = bpf_map_lookup_elem(&xdpfw_screen_rates, k);
	if (!w) {
		__u64 first = ((__u64)win << 32) | want;
		if (!bpf_map_update_elem(&xdpfw_screen_rates, k, &first, BPF_NOEXIST))
			return 1;
		w = bpf_map_lookup_elem(&xdpfw_screen_rates, k);
		if (!w)
			return 1;
	}
	__u64 old = *(volatile __u64 *)w;
	if ((__u32)(old >> 32) != win) {
		if (__sync_val_compare_and_swap(w, old, ((__u64)win << 32) | want) == old)
			return 1;
		old = *(volatile __u64 *)w; /* another CPU opened the window first */
	}
	if ((__u32)old > cap)
		return (__u32)old;
	return (__u32)__sync_fetch_and_add(w, want) + 1;
}

/*
 * The count of this packet in k's window `win`, all CPUs together: 1 for
 * the first, and past `cap` once the window is full (every packet after).
 */
static __noinline __u32 lease_renew(struct screen_rate_key *k, __u32 win, __u32 cap, struct screen_lease *l)
{
	__u32 growth = 0;
	if (l->win == win && l->cap == cap && same_rate_key(&l->key, k))
		growth = l->growth < LEASE_MAX_GROWTH ? l->growth + 1 : LEASE_MAX_GROWTH;
	__u64 w = 0;
	__u64 *word = bpf_map_lookup_elem(&xdpfw_screen_rates, k);
	if (word)
		w = *(volatile __u64 *)word;
	__u32 used = (__u32)(w >> 32) == win ? (__u32)w : 0;
	__u32 room = used < cap ? (cap - used) >> LEASE_MAX_SHIFT : 0;
	__u32 want = 1u << (growth & 31);
	if (want > room)
		want = room ? room : 1;
	__u32 n = lease_take(k, win, cap, want);
	l->key = *k;
	l->win = win;
	l->cap = cap;
	l->growth = growth;
	if (n > cap) { /* full: the rest of the window is judged here */
		l->next = n;
		l->end = 0;
		return n;
	}
	l->next = n + 1;
	l->end = n + want;
	return n;
}

/* k's count of this packet in window `win`, capped as shared_count(). A
 * global function: verified once, not on every path of the screens. */
__noinline __u32 flood_count_slow(struct screen_rate_key *k, __u32 win, __u32 cap)
{
	if (!k)
		return 0;
	__u32 slot = lease_slot(k);
	struct screen_lease *l = bpf_map_lookup_elem(&xdpfw_screen_leases, &slot);
	if (!l)
		return shared_count(k, win, cap);
	if (l->win == win && l->cap == cap && same_rate_key(&l->key, k)) {
		__u32 n = l->next;
		if (n > cap)
			return n;
		if (n < l->end) {
			l->next = n + 1;
			return n;
		}
	}
	return lease_renew(k, win, cap, l);
}

/* flood_count_slow() with its common case inlined: the packet counted in
 * the CPU's lease, or the window already full. Past a threshold that is
 * every packet of the window, under it all but the renewals; a call costs
 * as much as the rest of it. */
static __always_inline __u32 flood_count(struct screen_rate_key *k, __u32 win, __u32 cap)
{
	__u32 slot = lease_slot(k);
	struct screen_lease *l = bpf_map_lookup_elem(&xdpfw_screen_leases, &slot);
	if (l && l->win == win && l->cap == cap && same_rate_key(&l->key, k)) {
		__u32 n = l->next;
		if (n > cap)
			return n;
		if (n < l->end) {
			l->next = n + 1;
			return n;
		}
	}
	return flood_count_slow(k, win, cap);
}

#endif
