/* SPDX-License-Identifier: MIT */
/*
 * The far side of a test trunk, without 802.1Q devices: the peer's trunk end
 * has ifindex VLAN_PEER_TRUNK, and the VLAN V host of the peer sends and
 * receives through a veth pair whose inner end has ifindex VLAN_PEER_TRUNK + V
 * (the test creates them with these indexes). No maps: indexes say it all.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define VLAN_PEER_TRUNK 3000
#define MACS 12

/* On the trunk end: a tagged frame loses its tag and goes to its VLAN's pair. */
SEC("xdp")
int vlan_peer_trunk(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) + 4 > data_end || eth->h_proto != bpf_htons(ETH_P_8021Q))
		return XDP_PASS;
	__u16 vid = bpf_ntohs(*(__be16 *)(eth + 1)) & 0x0fff;
	__u8 macs[MACS];
	__builtin_memcpy(macs, data, MACS);
	if (bpf_xdp_adjust_head(ctx, 4))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + MACS > data_end)
		return XDP_DROP;
	__builtin_memcpy(data, macs, MACS);
	return bpf_redirect(VLAN_PEER_TRUNK + vid, 0);
}

/* On a VLAN's inner end: what its host sends leaves tagged by the trunk end. */
SEC("xdp")
int vlan_peer_unit(struct xdp_md *ctx)
{
	__u32 vid = ctx->ingress_ifindex - VLAN_PEER_TRUNK;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (vid == 0 || vid > 4094 || data + MACS > data_end)
		return XDP_DROP;
	__u8 macs[MACS];
	__builtin_memcpy(macs, data, MACS);
	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + MACS + 4 > data_end)
		return XDP_DROP;
	__builtin_memcpy(data, macs, MACS);
	*(__be16 *)(data + MACS) = bpf_htons(ETH_P_8021Q);
	*(__be16 *)(data + MACS + 2) = bpf_htons(vid);
	return bpf_redirect(VLAN_PEER_TRUNK, 0);
}
