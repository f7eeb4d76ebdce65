// SPDX-License-Identifier: MIT
/*
 * Writes TCP conntrack entries into the kernel table of the current network
 * namespace through ctnetlink, many messages per sendmsg() (ctnetlink has no
 * batch envelope, but the kernel handles every message in one send), as the
 * active box of a pair would mirror its sessions.
 *
 *   ct-inject create|update <count> [--batch N] [--rate R] [--first I]
 *
 * Entry i is 10.(200 + i / 2^24 ...).x.y:port -> 10.255.0.1:80, ESTABLISHED,
 * timeout 600 s, mark i. `create` makes new entries (NLM_F_CREATE|NLM_F_EXCL);
 * `update` rewrites the timeout and mark of existing ones. --rate paces the
 * sends to R entries per second (0: as fast as the kernel takes them).
 * Prints one JSON line: entries sent, errors the kernel returned (by errno),
 * seconds, entries per second, and the CPU seconds the process used (the
 * kernel's work of a send is done in the sender's context, so system time
 * is the table's cost).
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BUF_BYTES (160 * 1024)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, uint32_t src, uint32_t dst,
		      uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, dst);
	mnl_attr_nest_end(nlh, ip);
	struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, dport);
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, t);
}

/* One entry's message at the end of buf; returns its length. */
static size_t put_entry(char *buf, uint32_t i, int create, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | (create ? NLM_F_CREATE | NLM_F_EXCL : 0);
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;

	/* 2^16 - 1024 ports per client address, clients from 10.200.0.0 up. */
	uint32_t client = htonl((10u << 24) | (200u << 16)) + htonl(i / 64512);
	uint16_t port = htons(1024 + i % 64512);
	uint32_t server = htonl((10u << 24) | (255u << 16) | 1);
	uint16_t http = htons(80);
	put_tuple(nlh, CTA_TUPLE_ORIG, client, server, port, http);
	put_tuple(nlh, CTA_TUPLE_REPLY, server, client, http, port);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(600));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(i));
	if (create) {
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED));
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_REPLY, 7);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, pi);
	}
	return nlh->nlmsg_len;
}

static unsigned long errors_by[256];

/* Reads the error replies queued so far (acks are not asked for). */
static void drain(struct mnl_socket *nl, int wait)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	for (;;) {
		ssize_t got = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), wait ? 0 : MSG_DONTWAIT);
		if (got <= 0) return;
		int n = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR) continue;
			struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (h->nlmsg_seq == 0) return; /* the final ack */
			if (e->error != 0) errors_by[(-e->error) & 255]++;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ct-inject create|update <count> [--batch N] [--rate R] [--first I]\n");
		return 2;
	}
	int create = strcmp(argv[1], "create") == 0;
	uint32_t count = strtoul(argv[2], NULL, 10);
	uint32_t batch = 256, first = 0;
	double rate = 0;
	for (int a = 3; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--batch")) batch = strtoul(argv[a + 1], NULL, 10);
		else if (!strcmp(argv[a], "--rate")) rate = strtod(argv[a + 1], NULL);
		else if (!strcmp(argv[a], "--first")) first = strtoul(argv[a + 1], NULL, 10);
	}
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("ctnetlink");
		return 1;
	}
	int big = 4 << 20;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));

	static char buf[BUF_BYTES];
	double t0 = now();
	uint32_t sent = 0;
	while (sent < count) {
		size_t len = 0;
		uint32_t n = 0;
		while (n < batch && sent + n < count && len + 512 < BUF_BYTES) {
			len += put_entry(buf + len, first + sent + n, create, sent + n + 1);
			n++;
		}
		if (mnl_socket_sendto(nl, buf, len) < 0) {
			perror("sendto");
			return 1;
		}
		sent += n;
		drain(nl, 0);
		if (rate > 0) {
			double due = t0 + sent / rate, t = now();
			if (due > t) {
				struct timespec ts = { (time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	/* An empty ack-asking message: its reply comes after every error. */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS_CPU;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 0;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	mnl_socket_sendto(nl, buf, nlh->nlmsg_len);
	double secs = now() - t0;
	drain(nl, 1);
	unsigned long errs = 0;
	printf("{\"op\":\"%s\",\"sent\":%u,\"seconds\":%.6f,\"perSecond\":%.0f,\"errors\":{", argv[1], sent, secs, sent / secs);
	int comma = 0;
	for (int e = 0; e < 256; e++) {
		if (!errors_by[e]) continue;
		printf("%s\"%s\":%lu", comma ? "," : "", strerror(e), errors_by[e]);
		errs += errors_by[e];
		comma = 1;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("},\"errorCount\":%lu,\"cpuSeconds\":%.6f}\n", errs,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	mnl_socket_close(nl);
	return 0;
}
