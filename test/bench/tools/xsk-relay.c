// SPDX-License-Identifier: MIT
/*
 * The minimal AF_XDP relay: the floor under any userspace slow path on this
 * machine. Attaches bpf/bench/relay.bpf.c (syn_relay) to <in> and <out>,
 * takes the SYNs it redirects into an AF_XDP socket per rx queue of <in>
 * (already routed and rewritten in XDP), and sends each on at once from an
 * AF_XDP socket on <out>: no judging, no batching, woken by poll() on the
 * sockets as the daemon's event loop is woken by their readiness. Everything
 * else is forwarded in XDP.
 *
 *   xsk-relay <relay.bpf.o> <in> <out>
 *
 * Prints "ready" once attached; on SIGTERM/SIGINT detaches and prints one
 * JSON line: frames relayed, and per frame the time from XDP to userspace
 * taking it off the rx ring (wakeNs) and from there to the send returning
 * (sendNs), as percentiles in nanoseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/xsk.h>

#define FRAMES 1024
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define MAX_QUEUES 16
#define MAX_SAMPLES (1 << 20)

struct sock {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint32_t next_tx; /* tx frames are used round-robin (one in flight at a time here) */
};

static volatile sig_atomic_t stop;
static uint64_t wake_ns[MAX_SAMPLES], send_ns[MAX_SAMPLES];
static size_t samples;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "xsk-relay: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void open_sock(struct sock *s, const char *ifname, uint32_t queue, int rx)
{
	size_t size = (size_t)FRAMES * FRAME_SIZE;
	s->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED)
		die("mmap", errno);
	int rc = xsk_umem__create(&s->umem, s->area, size, &s->fill, &s->comp, NULL);
	if (rc)
		die("xsk_umem__create", rc);
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	rc = xsk_socket__create(&s->xsk, ifname, queue, s->umem, rx ? &s->rx : NULL, &s->tx, &cfg);
	if (rc)
		die("xsk_socket__create", rc);
	if (!rx)
		return;
	/* Half the frames for the fill ring, the rest for tx. */
	uint32_t idx;
	uint32_t n = FRAMES / 2;
	if (xsk_ring_prod__reserve(&s->fill, n, &idx) != n)
		die("fill ring", ENOSPC);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&s->fill, n);
}

/* Sends len bytes from out's UMEM: the frame is copied (each socket has its own UMEM). */
static void send_frame(struct sock *out, const void *frame, uint32_t len)
{
	uint32_t idx;
	/* Completed sends give nothing back that matters here: frames are reused round-robin. */
	uint32_t done = xsk_ring_cons__peek(&out->comp, FRAMES, &idx);
	if (done)
		xsk_ring_cons__release(&out->comp, done);
	if (xsk_ring_prod__reserve(&out->tx, 1, &idx) != 1)
		return;
	uint64_t addr = (uint64_t)(FRAMES / 2 + out->next_tx++ % (FRAMES / 2)) * FRAME_SIZE;
	memcpy((char *)out->area + addr, frame, len);
	struct xdp_desc *d = xsk_ring_prod__tx_desc(&out->tx, idx);
	d->addr = addr;
	d->len = len;
	xsk_ring_prod__submit(&out->tx, 1);
	sendto(xsk_socket__fd(out->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static void relay(struct sock *in, struct sock *out)
{
	uint32_t idx;
	uint32_t n = xsk_ring_cons__peek(&in->rx, 64, &idx);
	uint64_t taken = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&in->rx, idx + i);
		char *frame = xsk_umem__get_data(in->area, d->addr);
		uint64_t xdp_ns = 0;
		/* relay.bpf.c puts the time in front of every frame */
		if (d->len >= sizeof(xdp_ns)) {
			memcpy(&xdp_ns, frame, sizeof(xdp_ns));
			send_frame(out, frame + sizeof(xdp_ns), d->len - sizeof(xdp_ns));
		}
		if (xdp_ns && samples < MAX_SAMPLES) {
			wake_ns[samples] = taken - xdp_ns;
			send_ns[samples] = now_ns() - taken;
			samples++;
		}
		uint32_t f;
		if (xsk_ring_prod__reserve(&in->fill, 1, &f) == 1) {
			*xsk_ring_prod__fill_addr(&in->fill, f) = xsk_umem__extract_addr(d->addr);
			xsk_ring_prod__submit(&in->fill, 1);
		}
	}
	if (n)
		xsk_ring_cons__release(&in->rx, n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i];
}

static unsigned rx_queues(const char *ifname)
{
	char pattern[128];
	glob_t g;
	snprintf(pattern, sizeof(pattern), "/sys/class/net/%s/queues/rx-*", ifname);
	unsigned n = glob(pattern, 0, NULL, &g) == 0 ? (unsigned)g.gl_pathc : 1;
	globfree(&g);
	return n > MAX_QUEUES ? MAX_QUEUES : n;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: xsk-relay <relay.bpf.o> <in> <out>\n");
		return 2;
	}
	const char *in_name = argv[2], *out_name = argv[3];
	int in_ifindex = (int)if_nametoindex(in_name), out_ifindex = (int)if_nametoindex(out_name);
	if (!in_ifindex || !out_ifindex)
		die("if_nametoindex", errno);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	int rc = libbpf_get_error(obj);
	if (rc)
		die("bpf_object__open_file", rc);
	if ((rc = bpf_object__load(obj)))
		die("bpf_object__load", rc);
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "syn_relay"));
	int xsks = bpf_map__fd(bpf_object__find_map_by_name(obj, "relay_xsks"));

	static struct sock in[MAX_QUEUES], out;
	unsigned queues = rx_queues(in_name);
	struct pollfd fds[MAX_QUEUES];
	for (unsigned q = 0; q < queues; q++) {
		open_sock(&in[q], in_name, q, 1);
		int fd = xsk_socket__fd(in[q].xsk);
		if (bpf_map_update_elem(xsks, &q, &fd, 0))
			die("xskmap update", errno);
		fds[q] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	open_sock(&out, out_name, 0, 0);
	if ((rc = bpf_xdp_attach(in_ifindex, prog, XDP_FLAGS_DRV_MODE, NULL)))
		die("attach to in", rc);
	if ((rc = bpf_xdp_attach(out_ifindex, prog, XDP_FLAGS_DRV_MODE, NULL))) {
		bpf_xdp_detach(in_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		die("attach to out", rc);
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (poll(fds, queues, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", errno);
		}
		for (unsigned q = 0; q < queues; q++)
			if (fds[q].revents & POLLIN)
				relay(&in[q], &out);
	}

	bpf_xdp_detach(in_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bpf_xdp_detach(out_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	qsort(wake_ns, samples, sizeof(uint64_t), cmp_u64);
	qsort(send_ns, samples, sizeof(uint64_t), cmp_u64);
	printf("{\"frames\":%zu,\"wakeNs\":{\"p50\":%lu,\"p99\":%lu},\"sendNs\":{\"p50\":%lu,\"p99\":%lu}}\n", samples,
	       (unsigned long)pct(wake_ns, samples, 50), (unsigned long)pct(wake_ns, samples, 99),
	       (unsigned long)pct(send_ns, samples, 50), (unsigned long)pct(send_ns, samples, 99));
	fflush(stdout);
	return 0;
}
