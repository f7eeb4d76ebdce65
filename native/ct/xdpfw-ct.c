// SPDX-License-Identifier: MIT
/*
 * xdpfw-ct: the daemon's hand into the kernel's conntrack table (ctnetlink),
 * a process of its own so that table writes (about 1.5 us of kernel time
 * each, done in the sender's context) never hold the daemon's event loop.
 *
 *   xdpfw-ct mirror       reads struct xdpfw_ct_record from stdin; each read
 *                         becomes one sendmsg() of many ctnetlink messages
 *                         (no acks: the kernel answers errors only). After
 *                         each batch one line on stdout, the running totals:
 *                         "upserts upsert_errors deletes delete_missing
 *                         delete_errors last_errno".
 *   xdpfw-ct dump M MASK  writes the table's entries whose mark & MASK == M
 *                         to stdout as struct xdpfw_ct_record (op UPSERT).
 *   xdpfw-ct layout       the record's offsets, as JSON (checked by the daemon).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ct_record.h"

#define RECORDS_PER_BATCH 512
#define MSG_ROOM 256 /* more than one entry's message takes */
#define NO_WSCALE 0xff

static struct mnl_socket *open_ctnetlink(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("xdpfw-ct: ctnetlink");
		exit(1);
	}
	int big = 8 << 20;
	/* Error replies of a whole batch must fit, or they are lost (ENOBUFS). */
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return nl;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const struct xdpfw_ct_tuple *k, int reply)
{
	const uint8_t *src = reply ? k->dst_addr : k->src_addr, *dst = reply ? k->src_addr : k->dst_addr;
	struct nlattr *t = mnl_attr_nest_start(nlh, type);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (k->family == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst);
	}
	mnl_attr_nest_end(nlh, ip);
	struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, k->protocol);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, reply ? k->dst_port : k->src_port);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, reply ? k->src_port : k->dst_port);
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, t);
}

static struct nlmsghdr *put_header(char *buf, uint16_t msg, uint16_t flags, uint32_t seq, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* One record's message at buf; returns its length. */
static size_t put_record(char *buf, const struct xdpfw_ct_record *r, uint32_t seq)
{
	if (r->op == XDPFW_CT_DELETE) {
		struct nlmsghdr *nlh = put_header(buf, IPCTNL_MSG_CT_DELETE, 0, seq, r->key.family);
		put_tuple(nlh, CTA_TUPLE_ORIG, &r->key, 0);
		return nlh->nlmsg_len;
	}
	struct nlmsghdr *nlh = put_header(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, seq, r->key.family);
	put_tuple(nlh, CTA_TUPLE_ORIG, &r->key, 0);
	put_tuple(nlh, CTA_TUPLE_REPLY, &r->key, 1);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(r->timeout));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(r->mark));
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED));
	if (r->key.protocol == IPPROTO_TCP) {
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, r->tcp_state);
		for (int side = 0; side < 2; side++) {
			/* The window history is not carried: the kernel (and a peer that adopts it) picks it up liberally. */
			struct nf_ct_tcp_flags f = { .flags = IP_CT_TCP_FLAG_BE_LIBERAL, .mask = IP_CT_TCP_FLAG_BE_LIBERAL };
			if (r->wscale[side] != NO_WSCALE) {
				mnl_attr_put_u8(nlh, side ? CTA_PROTOINFO_TCP_WSCALE_REPLY : CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, r->wscale[side]);
				f.flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
				f.mask |= IP_CT_TCP_FLAG_WINDOW_SCALE;
			}
			mnl_attr_put(nlh, side ? CTA_PROTOINFO_TCP_FLAGS_REPLY : CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(f), &f);
		}
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, pi);
	}
	return nlh->nlmsg_len;
}

struct totals {
	unsigned long upserts, upsert_errors, deletes, delete_missing, delete_errors;
	int last_errno;
};

/* The error replies of what was sent (the kernel handled it all within the send). */
static void drain(struct mnl_socket *nl, struct totals *t)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	for (;;) {
		ssize_t got = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (got < 0 && errno == ENOBUFS) {
			/* Replies were lost: some errors are not known one by one. */
			t->last_errno = ENOBUFS;
			continue;
		}
		if (got <= 0)
			return;
		int n = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (e->error == 0)
				continue;
			if (h->nlmsg_seq & 1) {
				if (e->error == -ENOENT)
					t->delete_missing++;
				else
					t->delete_errors++;
			} else {
				t->upsert_errors++;
			}
			if (e->error != -ENOENT)
				t->last_errno = -e->error;
		}
	}
}

static int mirror(void)
{
	struct mnl_socket *nl = open_ctnetlink();
	static struct xdpfw_ct_record in[RECORDS_PER_BATCH];
	static char out[RECORDS_PER_BATCH * MSG_ROOM];
	struct totals t = { 0 };
	size_t have = 0;
	uint32_t seq = 0;
	for (;;) {
		ssize_t got = read(0, (char *)in + have, sizeof(in) - have);
		if (got == 0)
			return 0; /* the daemon closed the pipe */
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("xdpfw-ct: read");
			return 1;
		}
		have += (size_t)got;
		size_t n = have / sizeof(in[0]), len = 0;
		for (size_t i = 0; i < n; i++) {
			const struct xdpfw_ct_record *r = &in[i];
			if ((r->key.family != AF_INET && r->key.family != AF_INET6) ||
			    (r->op != XDPFW_CT_UPSERT && r->op != XDPFW_CT_DELETE))
				continue;
			int del = r->op == XDPFW_CT_DELETE;
			len += put_record(out + len, r, (++seq << 1) | del);
			if (del)
				t.deletes++;
			else
				t.upserts++;
		}
		if (len > 0 && mnl_socket_sendto(nl, out, len) < 0) {
			/* The whole batch is lost: counted as errors of its kind. */
			t.last_errno = errno;
			for (size_t i = 0; i < n; i++) {
				if (in[i].op == XDPFW_CT_DELETE)
					t.delete_errors++;
				else
					t.upsert_errors++;
			}
		}
		drain(nl, &t);
		have -= n * sizeof(in[0]);
		memmove(in, (char *)in + n * sizeof(in[0]), have);
		printf("%lu %lu %lu %lu %lu %d\n", t.upserts, t.upsert_errors, t.deletes, t.delete_missing, t.delete_errors, t.last_errno);
		fflush(stdout);
	}
}

struct dump_filter {
	uint32_t mark, mask;
	unsigned long written;
};

static int attr_table(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	if (type < 32)
		tb[type] = a;
	return MNL_CB_OK;
}

static int parse_tuple(const struct nlattr *nest, struct xdpfw_ct_tuple *k)
{
	const struct nlattr *tb[32] = { 0 }, *ip[32] = { 0 }, *proto[32] = { 0 };
	mnl_attr_parse_nested(nest, attr_table, tb);
	if (!tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return -1;
	mnl_attr_parse_nested(tb[CTA_TUPLE_IP], attr_table, ip);
	mnl_attr_parse_nested(tb[CTA_TUPLE_PROTO], attr_table, proto);
	if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST]) {
		k->family = AF_INET;
		memcpy(k->src_addr, mnl_attr_get_payload(ip[CTA_IP_V4_SRC]), 4);
		memcpy(k->dst_addr, mnl_attr_get_payload(ip[CTA_IP_V4_DST]), 4);
	} else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST]) {
		k->family = AF_INET6;
		memcpy(k->src_addr, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
		memcpy(k->dst_addr, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
	} else {
		return -1;
	}
	if (!proto[CTA_PROTO_NUM] || !proto[CTA_PROTO_SRC_PORT] || !proto[CTA_PROTO_DST_PORT])
		return -1; /* ICMP and protocols without ports are not mirrored */
	k->protocol = mnl_attr_get_u8(proto[CTA_PROTO_NUM]);
	k->src_port = mnl_attr_get_u16(proto[CTA_PROTO_SRC_PORT]);
	k->dst_port = mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]);
	return 0;
}

static int dump_entry(const struct nlmsghdr *nlh, void *data)
{
	struct dump_filter *f = data;
	const struct nlattr *tb[32] = { 0 };
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_table, tb);
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_MARK])
		return MNL_CB_OK;
	uint32_t mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	if ((mark & f->mask) != f->mark)
		return MNL_CB_OK; /* a kernel without the dump filter sends all */
	struct xdpfw_ct_record r;
	memset(&r, 0, sizeof(r));
	r.op = XDPFW_CT_UPSERT;
	r.mark = mark;
	r.wscale[0] = r.wscale[1] = NO_WSCALE;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], &r.key) < 0)
		return MNL_CB_OK;
	if (tb[CTA_TIMEOUT])
		r.timeout = ntohl(mnl_attr_get_u32(tb[CTA_TIMEOUT]));
	if (tb[CTA_PROTOINFO]) {
		const struct nlattr *pi[32] = { 0 }, *tcp[32] = { 0 };
		mnl_attr_parse_nested(tb[CTA_PROTOINFO], attr_table, pi);
		if (pi[CTA_PROTOINFO_TCP]) {
			mnl_attr_parse_nested(pi[CTA_PROTOINFO_TCP], attr_table, tcp);
			if (tcp[CTA_PROTOINFO_TCP_STATE])
				r.tcp_state = mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
			if (tcp[CTA_PROTOINFO_TCP_WSCALE_ORIGINAL])
				r.wscale[0] = mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_WSCALE_ORIGINAL]);
			if (tcp[CTA_PROTOINFO_TCP_WSCALE_REPLY])
				r.wscale[1] = mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_WSCALE_REPLY]);
		}
	}
	if (fwrite(&r, sizeof(r), 1, stdout) != 1)
		return MNL_CB_ERROR;
	f->written++;
	return MNL_CB_OK;
}

static int dump(uint32_t mark, uint32_t mask)
{
	struct mnl_socket *nl = open_ctnetlink();
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh = put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, 1, AF_UNSPEC);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("xdpfw-ct: dump");
		return 1;
	}
	struct dump_filter f = { mark, mask, 0 };
	unsigned int portid = mnl_socket_get_portid(nl);
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (got < 0) {
			perror("xdpfw-ct: dump");
			return 1;
		}
		int ret = mnl_cb_run(buf, (size_t)got, 1, portid, dump_entry, &f);
		if (ret < 0) {
			perror("xdpfw-ct: dump");
			return 1;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	fflush(stdout);
	fprintf(stderr, "xdpfw-ct: %lu entries\n", f.written);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "layout")) {
		printf("{\"size\":%zu,\"op\":%zu,\"tcp_state\":%zu,\"wscale\":%zu,\"timeout\":%zu,\"mark\":%zu,\"key\":%zu,"
		       "\"key_family\":%zu,\"key_protocol\":%zu,\"key_src_port\":%zu,\"key_dst_port\":%zu,\"key_src_addr\":%zu,\"key_dst_addr\":%zu}\n",
		       sizeof(struct xdpfw_ct_record), offsetof(struct xdpfw_ct_record, op),
		       offsetof(struct xdpfw_ct_record, tcp_state), offsetof(struct xdpfw_ct_record, wscale),
		       offsetof(struct xdpfw_ct_record, timeout), offsetof(struct xdpfw_ct_record, mark),
		       offsetof(struct xdpfw_ct_record, key), offsetof(struct xdpfw_ct_tuple, family),
		       offsetof(struct xdpfw_ct_tuple, protocol), offsetof(struct xdpfw_ct_tuple, src_port),
		       offsetof(struct xdpfw_ct_tuple, dst_port), offsetof(struct xdpfw_ct_tuple, src_addr),
		       offsetof(struct xdpfw_ct_tuple, dst_addr));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "mirror"))
		return mirror();
	if (argc >= 4 && !strcmp(argv[1], "dump"))
		return dump(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: xdpfw-ct mirror | dump MARK MASK | layout\n");
	return 2;
}
