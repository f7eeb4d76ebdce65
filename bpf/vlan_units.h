/* SPDX-License-Identifier: MIT */
/*
 * Trunks: an interface with `vlan-tagging` whose units (`unit N vlan-id V`)
 * are zone members of their own, handled in XDP on every kernel (no 802.1Q
 * devices needed). Each unit is a veth pair xdpfw creates: the unit device
 * (the kernel's: the unit's addresses, routes and neighbours) and its
 * internal peer (lib/interfaces/unit-devices.ts).
 *
 * In: a frame on the trunk (XDPFW_IFACE_TRUNK in its xdpfw_ifaces entry)
 * tagged with a VLAN one of its zone units owns loses its tag and is
 * redirected into that unit's internal end, so it arrives on the unit device,
 * where xdpfw_rx judges it like on any interface: the unit's zone, sessions
 * bound to the unit's ifindex. Any other VLAN, or no tag: dropped.
 *
 * Out: whatever leaves by the unit device (XDP redirects from other
 * interfaces, the slow path's sends, the kernel's own ARP, ND and replies)
 * arrives on its internal end, where xdpfw_vlan_tx puts the unit's tag on and
 * redirects it out of the trunk.
 */
#ifndef XDPFW_VLAN_UNITS_H
#define XDPFW_VLAN_UNITS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpfw.h"

/* struct xdpfw_iface flags. */
enum xdpfw_iface_flags {
	XDPFW_IFACE_TRUNK = 1, /* vlan-tagging: only frames of its units' VLANs pass, to their units */
};

/* A unit of a trunk: the trunk's ifindex and the unit's VLAN id. Also the
 * value of xdpfw_vlan_egress: where a unit's frames leave, with which tag. */
struct xdpfw_vlan_unit_key {
	__u32 ifindex;
	__u16 vlan_id;
	__u16 pad;
};

/* In: (trunk, VLAN) -> the ifindex of the unit's internal end. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_IFACES);
	__type(key, struct xdpfw_vlan_unit_key);
	__type(value, __u32);
} xdpfw_vlan_units SEC(".maps");

/* Out: the ifindex of a unit's internal end -> (trunk, VLAN). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xdpfw_vlan_unit_key);
} xdpfw_vlan_egress SEC(".maps");

enum vlan_step {
	VLAN_REDIRECT = 0,  /* the redirect is set up */
	VLAN_UNKNOWN,       /* no unit of ours: untagged, another VLAN, an 802.1ad tag, truncated */
	VLAN_NO_ROOM,       /* the tag could not be taken off or put on */
};

#define VLAN_MACS 12 /* destination and source MAC: they move with the tag */

/* On a trunk: the tag of a unit's VLAN off, redirected into its internal end. */
static __always_inline int vlan_to_unit(struct xdp_md *ctx, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) + 4 > data_end)
		return VLAN_UNKNOWN;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q))
		return VLAN_UNKNOWN;
	__be16 tci = *(__be16 *)(eth + 1);
	struct xdpfw_vlan_unit_key key = {
		.ifindex = ifindex,
		.vlan_id = bpf_ntohs(tci) & 0x0fff,
	};
	__u32 *internal = bpf_map_lookup_elem(&xdpfw_vlan_units, &key);
	if (!internal)
		return VLAN_UNKNOWN;
	__u32 target = *internal;
	__u8 macs[VLAN_MACS];
	__builtin_memcpy(macs, data, VLAN_MACS);
	if (bpf_xdp_adjust_head(ctx, 4))
		return VLAN_NO_ROOM;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + VLAN_MACS > data_end)
		return VLAN_NO_ROOM;
	__builtin_memcpy(data, macs, VLAN_MACS);
	bpf_redirect(target, 0);
	return VLAN_REDIRECT;
}

/* On a unit's internal end: its tag on, redirected out of its trunk. */
static __always_inline int vlan_from_unit(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct xdpfw_vlan_unit_key *out = bpf_map_lookup_elem(&xdpfw_vlan_egress, &ifindex);
	if (!out)
		return VLAN_UNKNOWN;
	__u32 trunk = out->ifindex;
	__be16 tci = bpf_htons(out->vlan_id & 0x0fff);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return VLAN_NO_ROOM;
	__u8 macs[VLAN_MACS];
	__builtin_memcpy(macs, data, VLAN_MACS);
	if (bpf_xdp_adjust_head(ctx, -4))
		return VLAN_NO_ROOM;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + VLAN_MACS + 4 > data_end)
		return VLAN_NO_ROOM;
	__builtin_memcpy(data, macs, VLAN_MACS);
	*(__be16 *)(data + VLAN_MACS) = bpf_htons(ETH_P_8021Q);
	*(__be16 *)(data + VLAN_MACS + 2) = tci;
	bpf_redirect(trunk, 0);
	return VLAN_REDIRECT;
}

#endif
