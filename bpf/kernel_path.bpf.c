// SPDX-License-Identifier: MIT
/*
 * Hands a frame the slow path judged to the kernel as if it had just arrived
 * on its interface: what XDP_PASS would have done had XDP decided at once.
 *
 * The slow path sends the frame out of that same interface through an
 * AF_PACKET socket whose packets carry XDPFW_KERNEL_PATH_MARK; this program,
 * on the interface's egress (tcx), turns exactly those around into its
 * ingress (bpf_redirect with BPF_F_INGRESS). The kernel then routes,
 * delivers locally, resolves neighbours, demultiplexes VLANs and answers
 * expiring TTLs for it as for any received packet. Everything else leaving
 * the interface goes on untouched. (BPF_PROG_RUN's live frames mode, which
 * did this before, is not offered by every kernel build.)
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* tcx return codes (<linux/bpf.h> of kernels 6.6 and later). */
#ifndef TCX_NEXT
#define TCX_NEXT -1
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

enum xdpfw_kernel_path_constants {
	/* skb->mark of the slow path's frames for the kernel ("XDPK"): a value
	 * nobody else is expected to set on packets leaving a zone interface. */
	XDPFW_KERNEL_PATH_MARK = 0x58445048,
};

enum xdpfw_kernel_path_constants xdpfw_btf_kernel_path_constants __attribute__((unused));

SEC("tc") /* attached as tcx egress by the daemon (native attachTcx) */
int xdpfw_kernel_path(struct __sk_buff *skb)
{
	if (skb->mark != XDPFW_KERNEL_PATH_MARK)
		return TCX_NEXT;
	skb->mark = 0;
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}
