/* SPDX-License-Identifier: MIT */
/*
 * Trunks: an interface with `vlan-tagging` whose units (`unit N vlan-id V`)
 * are zone members of their own. Each unit is a Linux VLAN device the kernel
 * owns (its addresses, routes, neighbours); xdpfw_rx runs on it in generic
 * mode, where the kernel has already taken the tag off, so a unit is judged
 * like any other interface: its own zone, sessions bound to its ifindex.
 *
 * The trunk itself (XDPFW_IFACE_TRUNK in its xdpfw_ifaces entry) decides one
 * thing: a frame tagged with a VLAN one of its zone units owns goes on to the
 * kernel, which hands it to that unit's device (and program); a frame tagged
 * with any other VLAN, or untagged, belongs to no zone and is dropped.
 *
 * Egress: XDP cannot redirect into a VLAN device (it has no ndo_xdp_xmit), so
 * units are never put in xdpfw_tx_ports; a session leaving by a unit is
 * handed to the kernel after its verdict (XDPFW_CNT_FAST_KERNEL), which tags
 * it and sends it out of the trunk.
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
	XDPFW_IFACE_TRUNK = 1, /* vlan-tagging: only frames of its units' VLANs pass */
};

/* A unit of a trunk: the trunk's ifindex and the unit's VLAN id. */
struct xdpfw_vlan_unit_key {
	__u32 ifindex;
	__u16 vlan_id;
	__u16 pad;
};

/* Value: the ifindex of the unit's VLAN device. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_IFACES);
	__type(key, struct xdpfw_vlan_unit_key);
	__type(value, __u32);
} xdpfw_vlan_units SEC(".maps");

/* Whether a unit of trunk `ifindex` owns the frame's (outer) VLAN. */
static __always_inline int trunk_unit_owns(struct xdp_md *ctx, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) + 4 > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q))
		return 0; /* untagged, or an 802.1ad outer tag: no unit of ours */
	__be16 tci = *(__be16 *)(eth + 1);
	struct xdpfw_vlan_unit_key key = {
		.ifindex = ifindex,
		.vlan_id = bpf_ntohs(tci) & 0x0fff,
	};
	return bpf_map_lookup_elem(&xdpfw_vlan_units, &key) != 0;
}

#endif
