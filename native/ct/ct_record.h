/* SPDX-License-Identifier: MIT */
/*
 * One conntrack entry as the daemon and xdpfw-ct exchange it over a pipe
 * (lib/ha/ct-record.ts holds the same layout; `xdpfw-ct layout` prints the
 * offsets compiled here and the daemon refuses a helper that differs).
 */
#ifndef XDPFW_CT_RECORD_H
#define XDPFW_CT_RECORD_H

#include <stdint.h>

enum xdpfw_ct_op {
	XDPFW_CT_UPSERT = 1, /* create, or update an existing entry */
	XDPFW_CT_DELETE = 2,
};

/* struct xdpfw_session_key of bpf/xdpfw.h: the client's tuple (the original direction). */
struct xdpfw_ct_tuple {
	uint8_t family;
	uint8_t protocol;
	uint16_t pad;
	uint16_t src_port; /* network byte order */
	uint16_t dst_port;
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
};

struct xdpfw_ct_record {
	uint8_t op;           /* enum xdpfw_ct_op */
	uint8_t tcp_state;    /* enum tcp_conntrack (linux/netfilter/nf_conntrack_tcp.h) */
	uint8_t wscale[2];    /* window scale of the client, the server; 0xff: unknown */
	uint32_t timeout;     /* seconds */
	uint32_t mark;
	uint32_t pad;
	struct xdpfw_ct_tuple key;
};

#endif
