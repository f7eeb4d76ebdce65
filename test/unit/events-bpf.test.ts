// bpf/events.h in a real program: the XDP object with events.h and a probe
// that emits a screen event for every packet, loaded (so the verifier accepts
// emit_event), run with BPF_PROG_RUN, and read back through BpfEventSource.
// When the ring is full, every lost event is counted in
// XDPFW_CNT_EVENT_RESERVE_FAIL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { COUNTER_VALUE, readConstants, verifyLayouts } from '../../lib/dataplane/layout.js';
import { RingBuffer, mapLookup, numPossibleCpus, openObject, progTestRun } from '../../lib/dataplane/native.js';
import { BpfEventSource } from '../../lib/events/bpf-source.js';
import { EventProducer } from '../../lib/events/producer.js';
import { EventCodec, readEventConstants } from '../../lib/events/record.js';
import { EVENT_KINDS, type EventKind } from '../../lib/events/types.js';
import { packageRoot } from '../../lib/util/paths.js';
import { frame } from '../helpers/packets.js';

const PROBE = String.raw`
#include "xdpfw.bpf.c"
#include "events.h"

SEC("xdp")
int events_probe(struct xdp_md *ctx)
{
	struct packet pkt;
	if (parse_packet(ctx, &pkt) != PARSE_OK)
		return XDP_PASS;
	emit_event(ctx, &xdpfw_counters, &pkt.key, &(struct xdpfw_event_facts){
		.kind = XDPFW_EVENT_SCREEN_DROP,
		.action = XDPFW_ACTION_DROP,
		.screen_id = XDPFW_SCREEN_SYN_FLOOD,
		.ingress_zone = 3,
		.icmp_type = pkt.icmp_type,
	});
	return XDP_DROP;
}
`;

function compileProbe(dir: string): string {
  const src = join(dir, 'probe.bpf.c');
  const obj = join(dir, 'probe.bpf.o');
  writeFileSync(src, PROBE);
  const arch = execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  execFileSync('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${arch}`, `-I${join(packageRoot, 'bpf')}`, '-c', src, '-o', obj]);
  return obj;
}

const UNLIMITED = Object.fromEntries(EVENT_KINDS.map((k) => [k, Infinity])) as Record<EventKind, number>;
const LO = 1;

t.test('emit_event from XDP reaches the producer, and a full ring is counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-events-bpf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = compileProbe(dir);
  verifyLayouts(path);
  const obj = openObject(path);
  t.teardown(() => obj.close());
  const codec = new EventCodec(readEventConstants(path));
  const producer = new EventProducer({ rates: UNLIMITED });
  const source = new BpfEventSource(obj.mapFd('xdpfw_events'), codec, producer);
  const prog = obj.progFd('events_probe');
  const syn = frame({ src: '2001:db8::7', dst: '2001:db8:1::9', protocol: 'tcp', sport: 40001, dport: 443, tcpFlags: 0x02 });

  t.equal(progTestRun(prog, { data: syn, ifindex: LO }).retval, 1, 'XDP_DROP');
  const deadline = Date.now() + 5000;
  while (producer.recent().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const [ev] = producer.recent();
  const { timestampNs, monotonicNs, ...rest } = ev;
  t.same(rest, {
    kind: 'screen-drop',
    family: 'inet6',
    protocol: 6,
    sourceAddress: '2001:db8::7',
    sourcePort: 40001,
    destinationAddress: '2001:db8:1::9',
    destinationPort: 443,
    icmpType: 0,
    ingressIfindex: LO,
    ingressZone: 3,
    screen: 'syn-flood',
    action: 'drop',
  });
  t.ok(monotonicNs > 0n, 'stamped with bpf_ktime_get_ns');
  const skewMs = Math.abs(Number(timestampNs / 1_000_000n) - Date.now());
  t.ok(skewMs < 5000, `wall-clock time from the monotonic stamp (off by ${skewMs} ms)`);
  t.same(source.stats(), { undecodable: 0, error: null });
  source.close();

  // Nobody reads now: the 1 MiB ring holds some thousands of records, the rest are counted.
  const runs = 20_000;
  progTestRun(prog, { data: syn, ifindex: LO, repeat: runs });
  const index = readConstants(path).counters.get('EVENT_RESERVE_FAIL')!;
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  const perCpu = Buffer.alloc(COUNTER_VALUE.size * numPossibleCpus());
  t.ok(mapLookup(obj.mapFd('xdpfw_counters'), key, perCpu));
  let lost = 0;
  for (let at = 0; at < perCpu.length; at += COUNTER_VALUE.size) lost += Number(perCpu.readBigUInt64LE(at + COUNTER_VALUE.offset.packets));
  const drain = new RingBuffer(obj.mapFd('xdpfw_events'), () => {});
  const kept = drain.consume().length;
  drain.close();
  t.ok(lost > 0 && kept > 0, `${kept} records kept, ${lost} reserve failures`);
  t.equal(kept + lost, runs, 'every run either wrote its event or counted the loss');
});
