// Shared fixtures for the native addon tests: a test BPF object compiled
// from source with clang, a private bpffs pin directory, a network namespace
// with veth pairs, and packet builders. Everything created is removed in
// t.teardown, including after failures.
//
// Run directly (tap runs every file in the directory) it checks that the
// fixture object builds and has the expected sections.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import {
  type BpfObject,
  NativeError,
  type OpenObjectOptions,
  mapLookup,
  numPossibleCpus,
  openObject,
} from '../../lib/dataplane/native.js';

/** The part of tap's Test API the fixtures need. */
export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

// Map/program/type names defined by TEST_BPF_SOURCE.
export const MODE_PASS = 0;
export const MODE_DROP = 1;
export const MODE_REDIRECT_XSK = 2;
export const MODE_TX_SWAP = 3;
/** counters[] indexes (per-CPU u64) */
export const CNT_PACKETS = 0;
export const CNT_BYTES = 1;
export const CNT_PEER_MARKED = 2;
/** EtherType (IEEE local experimental) of frames counted by xdp_count */
export const MARK_ETHERTYPE = 0x88b5;
/** struct flow_key / flow_val sizes */
export const FLOW_KEY_SIZE = 16;
export const FLOW_VAL_SIZE = 32;
/** struct event: u64 ts, u32 ifindex, u32 rxq, u32 len, u8 head[4] */
export const EVENT_SIZE = 24;

export { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX } from '../../lib/dataplane/xdp-abi.js';

export const TEST_BPF_SOURCE = String.raw`
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef FLOWS_MAX
#define FLOWS_MAX 1024
#endif

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_val {
	__u64 packets;
	__u64 bytes;
	__u32 state : 4, flags : 12, zone : 16;
	__u8 tag[6];
	__u16 tail;
	__u32 spare;
};

enum test_mode {
	MODE_PASS = 0,
	MODE_DROP = 1,
	MODE_REDIRECT_XSK = 2,
	MODE_TX_SWAP = 3,
};

typedef enum { VERDICT_ALLOW = 10, VERDICT_DENY = 20, VERDICT_BIG = 0x80000001u } verdict_t;

struct event {
	__u64 ts;
	__u32 ifindex;
	__u32 rxq;
	__u32 len;
	__u8 head[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWS_MAX);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

/* LPM trie: a map type without batch operations. */
struct prefix_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct prefix_key);
	__type(value, __u32);
} prefixes SEC(".maps");

/* Last event emitted; also makes struct event part of the BTF. */
struct event last_event;

/* .rodata: an internal map that must never be pinned. */
const volatile __u32 build_marker = 7;
/* Make the enums part of the BTF. */
enum test_mode last_mode = MODE_PASS;
verdict_t last_verdict = VERDICT_ALLOW;

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += n;
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;

	count(0, 1);
	count(1, end - data);

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->ts = bpf_ktime_get_ns();
		e->ifindex = ctx->ingress_ifindex;
		e->rxq = ctx->rx_queue_index;
		e->len = end - data;
		__builtin_memset(e->head, 0, sizeof(e->head));
		if (data + 4 <= end)
			__builtin_memcpy(e->head, data, 4);
		last_event = *e;
		bpf_ringbuf_submit(e, 0);
	}

	__u32 *modep = bpf_map_lookup_elem(&config, &zero);
	__u32 mode = modep ? *modep : MODE_PASS;
	last_mode = mode;
	if (mode == MODE_DROP)
		return XDP_DROP + build_marker - 7;
	if (mode == MODE_REDIRECT_XSK) {
		if ((void *)(eth + 1) > end)
			return XDP_PASS;
		if (eth->h_proto == bpf_htons(0x88b5))
			return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
		if (eth->h_proto == bpf_htons(ETH_P_IP)) {
			struct iphdr *ip = (void *)(eth + 1);
			if ((void *)(ip + 1) > end)
				return XDP_PASS;
			if (ip->protocol == IPPROTO_UDP)
				return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
		}
		return XDP_PASS;
	}
	if (mode == MODE_TX_SWAP) {
		unsigned char tmp[ETH_ALEN];
		if ((void *)(eth + 1) > end)
			return XDP_ABORTED;
		__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
		return XDP_TX;
	}
	return XDP_PASS;
}

/* Attached to the peer: counts frames with the marker EtherType, drops them. */
SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(0x88b5)) {
		count(2, 1);
		last_verdict = VERDICT_DENY;
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** A program the verifier must reject (packet read without bounds check). */
export const BAD_BPF_SOURCE = String.raw`
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_bad(struct xdp_md *ctx)
{
	return *(int *)(long)ctx->data;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** A fresh temporary directory, removed at teardown. */
/** The NativeError fn throws (anything else is rethrown; no throw fails the test). */
export function thrown(fn: () => unknown): NativeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NativeError) return e;
    throw e;
  }
  throw new Error('expected a NativeError');
}

export function tmpDir(tt: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-native-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let multiarchInclude: string | undefined;

/** Compile BPF C source to an object in `dir`; returns the object's path. */
export function compileBpf(dir: string, name: string, source: string, defines: string[] = []): string {
  if (multiarchInclude === undefined) {
    // <linux/types.h> needs <asm/types.h>, which lives in the multiarch dir.
    multiarchInclude = execFileSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  }
  const src = join(dir, `${name}.bpf.c`);
  const obj = join(dir, `${name}.bpf.o`);
  writeFileSync(src, source);
  execFileSync(
    'clang',
    [
      '-O2',
      '-g',
      '-target',
      'bpf',
      `-I/usr/include/${multiarchInclude}`,
      ...defines.map((d) => `-D${d}`),
      '-c',
      src,
      '-o',
      obj,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return obj;
}

/** The standard test object, compiled into a teardown-managed temp dir. */
export function compileTestObject(tt: Teardown, defines: string[] = []): string {
  return compileBpf(tmpDir(tt), 'xdpfw_test', TEST_BPF_SOURCE, defines);
}

const BPF_FS_MAGIC = 0xcafe4a11;

/** Make sure /sys/fs/bpf is a bpffs mount (pins need it). */
export function ensureBpffs(): void {
  if (statfsSync('/sys/fs/bpf').type !== BPF_FS_MAGIC) {
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  }
}

/** A unique name for namespaces and pin directories of this test process. */
export function uniqueName(): string {
  return `xdpfwt-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** A private directory under /sys/fs/bpf, removed (with its pins) at teardown. */
export function pinDir(tt: Teardown): string {
  ensureBpffs();
  const dir = join('/sys/fs/bpf', uniqueName());
  mkdirSync(dir);
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestNetns {
  name: string;
  /** path for nsenter --net= */
  path: string;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** ip -n NS ... */
export function ipIn(ns: TestNetns, ...args: string[]): string {
  return ip('-n', ns.name, ...args);
}

/** An empty network namespace with lo up; deleted (with its devices) at teardown. */
export function createNetns(tt: Teardown): TestNetns {
  const name = uniqueName();
  ip('netns', 'add', name);
  tt.teardown(() => {
    try {
      ip('netns', 'del', name);
    } catch {
      // already gone
    }
  });
  const ns = { name, path: `/run/netns/${name}` };
  ipIn(ns, 'link', 'set', 'lo', 'up');
  return ns;
}

/** Create a veth pair inside `ns` and bring both ends up. */
export function addVethPair(ns: TestNetns, a: string, b: string, queues = 1): void {
  const q = ['numtxqueues', String(queues), 'numrxqueues', String(queues)];
  ipIn(ns, 'link', 'add', 'name', a, ...q, 'type', 'veth', 'peer', 'name', b, ...q);
  ipIn(ns, 'link', 'set', a, 'up');
  ipIn(ns, 'link', 'set', b, 'up');
}

/** MAC address of a device in `ns`, as 6 bytes. */
export function macOf(ns: TestNetns, dev: string): Buffer {
  const parsed: unknown = JSON.parse(ipIn(ns, '-j', 'link', 'show', 'dev', dev));
  if (!Array.isArray(parsed) || parsed.length !== 1) throw new Error(`no device ${dev}`);
  const first: unknown = parsed[0];
  const address =
    typeof first === 'object' && first !== null ? (first as { address?: unknown }).address : undefined;
  if (typeof address !== 'string') throw new Error(`no MAC for ${dev}`);
  return Buffer.from(address.split(':').map((h) => parseInt(h, 16)));
}

// ------------------------------------------------------------------ packets

/** Ethernet frame: dst, src, EtherType, payload. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, ethertype: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f.writeUInt16BE(ethertype, 12);
  f.set(payload, 14);
  return f;
}

function ipChecksum(hdr: Buffer): number {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += hdr.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Ethernet + IPv4 + UDP frame (UDP checksum 0 = none). */
export function udpFrame(opts: {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Uint8Array;
}): Buffer {
  const udpLen = 8 + opts.payload.length;
  const ipHdr = Buffer.alloc(20);
  ipHdr.writeUInt8(0x45, 0);
  ipHdr.writeUInt16BE(20 + udpLen, 2);
  ipHdr.writeUInt8(64, 8);
  ipHdr.writeUInt8(17, 9);
  ipHdr.set(opts.src.split('.').map(Number), 12);
  ipHdr.set(opts.dst.split('.').map(Number), 16);
  ipHdr.writeUInt16BE(ipChecksum(ipHdr), 10);
  const udp = Buffer.alloc(udpLen);
  udp.writeUInt16BE(opts.sport, 0);
  udp.writeUInt16BE(opts.dport, 2);
  udp.writeUInt16BE(udpLen, 4);
  udp.set(opts.payload, 8);
  return ethFrame(opts.dstMac, opts.srcMac, 0x0800, Buffer.concat([ipHdr, udp]));
}

/** Offset of the UDP payload in frames built by udpFrame / sent by the stack. */
export const UDP_PAYLOAD_OFFSET = 14 + 20 + 8;

/** u32 little-endian key/value helper. */
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

/** openObject, closed again at teardown. */
export function openTestObject(tt: Teardown, path: string, opts: OpenObjectOptions = {}): BpfObject {
  const obj = openObject(path, opts);
  tt.teardown(() => obj.close());
  return obj;
}

/** Sum of a per-CPU u64 array slot over all possible CPUs. */
export function perCpuSum(fd: number, index: number): bigint {
  const cpus = numPossibleCpus();
  const value = Buffer.alloc(8 * cpus);
  if (!mapLookup(fd, u32(index), value)) throw new Error(`no per-CPU slot ${index}`);
  let sum = 0n;
  for (let i = 0; i < cpus; i++) sum += value.readBigUInt64LE(8 * i);
  return sum;
}

/** Poll `cond` until true or the deadline passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Run as a tap file on its own: the fixture object must build. */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  t.test('fixture BPF object compiles with BTF and both programs', (tt) => {
    const obj = compileTestObject(tt);
    const sections = execFileSync('llvm-objdump', ['-h', obj], { encoding: 'utf8' });
    tt.match(sections, /\.BTF/);
    tt.match(sections, /\bxdp\b/);
    tt.match(sections, /\.maps/);
    tt.end();
  });
}
