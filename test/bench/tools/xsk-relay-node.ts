// The minimal AF_XDP relay in Node: what xsk-relay.c does (bpf/bench/relay.bpf.c
// routes and rewrites a SYN in XDP and hands it to an AF_XDP socket; it is sent
// on unjudged from an AF_XDP socket on the egress), through the daemon's own
// native Xsk and its event-loop wake-up (uv_poll). The difference to the C
// relay is what being a Node process costs a first packet; the difference to
// xdpfw is what judging it costs.
//
//   node xsk-relay-node.js <relay.bpf.o> <in> <out>
//
// Prints "ready"; on SIGTERM one JSON line as xsk-relay prints (its sendNs: 0,
// not timed here).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { type XdpAttachment, Xsk, attachXdp, ifNameToIndex, mapUpdate, openObject } from '../../../lib/dataplane/native.js';

const [objPath, inName, outName] = process.argv.slice(2) as [string, string, string];
const obj = openObject(objPath);
const xsksMap = obj.mapFd('relay_xsks');
const out = new Xsk({ ifindex: ifNameToIndex(outName), ifname: outName, queue: 0 });
const waits: number[] = [];
const lengths = new Uint32Array(1);
const descs = new Uint32Array(128);
const key = Buffer.alloc(4);
const value = Buffer.alloc(4);
const sockets: Xsk[] = [];

const queues = readdirSync(`/sys/class/net/${inName}/queues`).filter((q) => q.startsWith('rx-')).length;
for (let q = 0; q < queues; q++) {
  const xsk = new Xsk({ ifindex: ifNameToIndex(inName), ifname: inName, queue: q });
  sockets.push(xsk);
  key.writeUInt32LE(q);
  value.writeUInt32LE(xsk.fd);
  mapUpdate(xsksMap, key, value);
  const umem = Buffer.from(xsk.umem);
  xsk.poll(() => {
    const n = xsk.rx(descs);
    const now = Number(process.hrtime.bigint());
    for (let i = 0; i < n; i++) {
      // struct relay_meta, the frame's first 8 bytes: XDP's bpf_ktime_get_ns() (CLOCK_MONOTONIC).
      const at = descs[2 * i]! + 8;
      waits.push(now - (umem.readUInt32LE(at - 4) * 2 ** 32 + umem.readUInt32LE(at - 8)));
      lengths[0] = descs[2 * i + 1]! - 8;
      out.tx(umem.subarray(at), lengths, 1);
    }
  });
}
const links: XdpAttachment[] = [inName, outName].map((name) => {
  // A program attached through netlink (the topology's xdp_pass) keeps a bpf_link out.
  execFileSync('ip', ['link', 'set', 'dev', name, 'xdp', 'off']);
  return attachXdp(obj.progFd('syn_relay'), ifNameToIndex(name), 'native');
});

process.on('SIGTERM', () => {
  waits.sort((a, b) => a - b);
  const at = (p: number) => waits[Math.min(waits.length - 1, Math.floor(waits.length * p))] ?? 0;
  process.stdout.write(`${JSON.stringify({ frames: waits.length, wakeNs: { p50: at(0.5), p99: at(0.99) }, sendNs: { p50: 0, p99: 0 } })}\n`);
  // The links and sockets go with the process.
  void links;
  void sockets;
  process.exit(0);
});
process.stdout.write('ready\n');
