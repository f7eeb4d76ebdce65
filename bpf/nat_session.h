/* SPDX-License-Identifier: MIT */
/*
 * NAT of established sessions. A translated session keeps its entry in
 * xdpfw_sessions under its original tuple; xdpfw_nat_sessions holds, under
 * the flow key of each tuple its packets arrive with (the original one from
 * the client, the translated one from the server), what those packets leave
 * with. The daemon writes both entries before the session's first packet
 * is sent on (lib/nat/nat-sessions.ts) and deletes them with the session.
 * Untranslated sessions have no entry here and never look.
 */
#ifndef XDPFW_NAT_SESSION_H
#define XDPFW_NAT_SESSION_H

#include "nat_rewrite.h"

struct xdpfw_nat_session {
	struct xdpfw_flow_key session; /* the session's key in xdpfw_sessions */
	struct xdpfw_nat_tuple to;     /* the packets' tuple once translated */
	__u8 dir;                      /* their direction in the session (0: from the client) */
	__u8 swapped;                  /* tuple_swapped() of their tuple: the other order is no packet of theirs */
	__u16 pad;
};

enum xdpfw_nat_flags {
	XDPFW_NAT_ACTIVE = 1, /* the config translates: a session miss looks in xdpfw_nat_sessions */
};

struct xdpfw_nat_settings {
	__u32 flags; /* enum xdpfw_nat_flags */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPFW_MAX_SESSION_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpfw_flow_key);
	__type(value, struct xdpfw_nat_session);
} xdpfw_nat_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpfw_nat_settings);
} xdpfw_nat_settings SEC(".maps");

static __always_inline int nat_active(void)
{
	__u32 zero = 0;
	const struct xdpfw_nat_settings *s = bpf_map_lookup_elem(&xdpfw_nat_settings, &zero);
	return s && (s->flags & XDPFW_NAT_ACTIVE);
}

#endif
