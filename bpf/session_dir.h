/* SPDX-License-Identifier: MIT */
/*
 * A packet's direction in its session entry (pkt->dir, session_entry.h)
 * applied to the entry's per-direction arrays ([0]: client -> server,
 * [1]: back).
 */
#ifndef XDPFW_SESSION_DIR_H
#define XDPFW_SESSION_DIR_H

#include <linux/types.h>

/* Element `dir` of the entry's per-direction array `field`, as a pointer to
 * T: an offset, not a branch between two pointers, which would double the
 * paths the verifier walks after it. */
#define session_at(T, sess, field, dir)                                            \
	({                                                                         \
		__u64 _d = (dir) & 1;                                              \
		asm volatile("" : "+r"(_d));                                       \
		(T *)((void *)&(sess)->field[0] + _d * sizeof((sess)->field[0])); \
	})

/* The other direction. */
#define session_other(dir) ((((dir) & 1) ^ 1) & 1)

#endif
