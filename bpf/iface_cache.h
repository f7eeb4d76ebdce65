/* SPDX-License-Identifier: MIT */
/*
 * The ingress interface's xdpfw_ifaces entry, the first thing xdpfw_rx
 * needs of every packet, copied into a per-CPU slot: a hash lookup costs
 * more than the rest of a screen drop. The copy holds while the generation
 * the daemon bumps after every change to xdpfw_ifaces (lib/dataplane) is
 * the one it was taken under; a change reaches every CPU by its next
 * packet. The generation is read before the entry, so a copy taken while a
 * change is under way carries the older generation and is taken again.
 */
#ifndef XDPFW_IFACE_CACHE_H
#define XDPFW_IFACE_CACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdpfw.h"

struct xdpfw_iface_copy {
	__u64 generation;
	__u32 ifindex; /* 0: empty */
	struct xdpfw_iface iface;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpfw_iface_generation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_iface_copy);
} xdpfw_iface_copies SEC(".maps");

/* Both maps' only key, where no stack is spent on it. */
static const __u32 iface_copy_key = 0;

/* The entry of `ifindex` in `ifaces` (xdpfw_ifaces), or NULL. Always the
 * per-CPU copy, so the verifier sees one kind of pointer either way. */
static __always_inline struct xdpfw_iface *iface_entry(void *ifaces, __u32 ifindex)
{
	__u64 *gen = bpf_map_lookup_elem(&xdpfw_iface_generation, &iface_copy_key);
	struct xdpfw_iface_copy *c = bpf_map_lookup_elem(&xdpfw_iface_copies, &iface_copy_key);
	if (!gen || !c)
		return NULL; /* never: both are one-entry arrays */
	__u64 g = *(volatile __u64 *)gen;
	if (c->ifindex != ifindex || c->generation != g) {
		struct xdpfw_iface *i = bpf_map_lookup_elem(ifaces, &ifindex);
		if (!i)
			return NULL;
		c->iface = *i;
		c->ifindex = ifindex;
		c->generation = g;
	}
	return &c->iface;
}

#endif
