/* Routes of a batch of first packets in one plain BPF_PROG_RUN: the slow
 * path writes one entry per packet (its session key, the routing table, the
 * IPv4 TOS) back to back as the "packet", and xdpfw_route_batch answers each
 * in place with what xdpfw_route would have found for that packet. Every
 * entry of a batch arrived on the same interface (ctx's ingress). */
#ifndef XDPFW_ROUTE_BATCH_H
#define XDPFW_ROUTE_BATCH_H

enum xdpfw_route_batch_limits {
	/* Entries one run answers: the run's input stays within one page. */
	XDPFW_ROUTE_BATCH_MAX = 56,
};

struct xdpfw_route_entry {
	struct xdpfw_session_key key; /* in: the packet's key, as XDP builds it */
	__u32 table_id;               /* in: routing table, 0: the kernel's rules */
	__u8 tos;                     /* in: IPv4 TOS byte (0 for IPv6) */
	__u8 flags;                   /* out: enum xdpfw_route_flags */
	__u16 pad;
	__u32 fib_rc;                 /* out: BPF_FIB_LKUP_RET_* */
	__u32 ifindex;                /* out: egress (SUCCESS and NO_NEIGH) */
};

struct xdpfw_route_entry xdpfw_btf_route_entry __attribute__((unused));
enum xdpfw_route_batch_limits xdpfw_btf_route_batch_limits __attribute__((unused));

static __always_inline void route_entry(struct xdp_md *ctx, struct xdpfw_route_entry *e)
{
	struct bpf_fib_lookup fib;
	__u32 flags = 0;
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = e->key.protocol;
	fib.sport = e->key.src_port;
	fib.dport = e->key.dst_port;
	if (e->key.family == AF_INET) {
		fib.family = AF_INET;
		fib.tos = e->tos;
		fib.ipv4_src = e->key.src_addr[0];
		fib.ipv4_dst = e->key.dst_addr[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, e->key.src_addr, 16);
		__builtin_memcpy(fib.ipv6_dst, e->key.dst_addr, 16);
	}
	if (e->table_id) {
		fib.tbid = e->table_id;
		flags = BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
	}
	e->flags = 0;
	e->fib_rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), flags);
	e->ifindex = fib.ifindex;
	if (e->fib_rc == BPF_FIB_LKUP_RET_NOT_FWDED && box_connection(ctx, &e->key))
		e->flags = XDPFW_ROUTE_BOX_CONNECTION;
}

SEC("xdp")
int xdpfw_route_batch(struct xdp_md *ctx)
{
	struct xdpfw_route_entry e;
	__u32 len = ctx->data_end - ctx->data;
	if (len % sizeof(e) != 0 || len / sizeof(e) > XDPFW_ROUTE_BATCH_MAX)
		return XDP_ABORTED;
	__u32 n = len / sizeof(e);
	for (__u32 i = 0; i < XDPFW_ROUTE_BATCH_MAX; i++) {
		if (i >= n)
			break;
		__u32 off = i * sizeof(e);
		if (bpf_xdp_load_bytes(ctx, off, &e, sizeof(e)))
			return XDP_ABORTED;
		route_entry(ctx, &e);
		if (bpf_xdp_store_bytes(ctx, off, &e, sizeof(e)))
			return XDP_ABORTED;
	}
	return XDP_PASS;
}

#endif
