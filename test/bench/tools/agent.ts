// A benchmark agent inside one network namespace (started through nsenter by
// lib/net.ts): attaches the benchmark XDP programs, reads the sink counter
// and runs the traffic generator. Requests arrive as JSON lines on stdin,
// replies leave on stdout. Everything it attached goes away with it: links
// are held by this process's file descriptors, never pinned.
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  type BpfObject, attachXdp, closeFd, ifNameToIndex, mapLookup, mapUpdate, numPossibleCpus, openObject, packetSend, packetSocket,
  progRunInto, progTestRun,
} from '../../../lib/dataplane/native.js';
import { bpfObjectPath } from '../../../lib/util/paths.js';
import { type AgentReply, type AgentRequest, type GenResult, type GenSpec, PROGRAMS, type ProgramName } from '../lib/agent-protocol.js';

const objects = new Map<string, BpfObject>();
const links = new Map<string, { linkFd: number; obj: BpfObject }>();

function object(name: string): BpfObject {
  let o = objects.get(name);
  if (!o) objects.set(name, (o = openObject(bpfObjectPath(name))));
  return o;
}

function attach(ifname: string, program: ProgramName): void {
  detach(ifname);
  // The topology attaches xdp_pass through netlink; a bpf_link cannot replace that.
  execFileSync('ip', ['link', 'set', 'dev', ifname, 'xdp', 'off']);
  const { object: file, prog } = PROGRAMS[program];
  const obj = object(file);
  const { linkFd } = attachXdp(obj.progFd(prog), ifNameToIndex(ifname), 'native');
  links.set(ifname, { linkFd, obj });
}

function detach(ifname: string): void {
  const l = links.get(ifname);
  if (l) closeFd(l.linkFd);
  links.delete(ifname);
}

/** Frames the sink on `ifname` counted so far (summed over CPUs). */
function count(ifname: string): number {
  const l = links.get(ifname);
  if (!l) throw new Error(`no sink on ${ifname}`);
  const cpus = numPossibleCpus();
  const value = Buffer.alloc(8 * cpus);
  if (!mapLookup(l.obj.mapFd('sink_packets'), Buffer.alloc(4), value)) return 0;
  let n = 0;
  for (let c = 0; c < cpus; c++) n += Number(value.readBigUInt64LE(8 * c));
  return n;
}

// --- the generator

/** Largest repeat count per BPF_PROG_RUN call when unpaced: keeps calls well under a second. */
const MAX_CALL = 1 << 20;
/** Paced: send at least this much of a second's frames per call (each call costs a few µs of setup). */
const CHUNK_SECONDS = 0.0005;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function genConfig(spec: GenSpec, frame: Buffer): Buffer {
  const c = Buffer.alloc(32);
  c.writeUInt32LE(ifNameToIndex(spec.ifname), 0);
  c.writeUInt32LE(spec.flows, 4);
  c.writeUInt32LE(spec.ports, 8);
  c.writeUInt32LE(spec.addrBase >>> 0, 12);
  c.writeUInt16LE(spec.portBase, 16);
  frame.copy(c, 18, 0, 12); // dmac, smac
  return c;
}

function gen(spec: GenSpec): GenResult {
  const obj = object('bench/trafficgen');
  const frame = Buffer.from(spec.frame, 'hex');
  mapUpdate(obj.mapFd('gen_config'), Buffer.alloc(4), genConfig(spec, frame));
  const seq = Buffer.alloc(8);
  seq.writeBigUInt64LE(BigInt(spec.firstFlow));
  mapUpdate(obj.mapFd('gen_seq'), Buffer.alloc(4), seq);
  const prog = obj.progFd('trafficgen');
  const ifindex = ifNameToIndex(spec.ifname);
  const minChunk = Math.max(1, Math.floor(spec.rate * CHUNK_SECONDS));
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  let sent = 0;
  while (sent < spec.frames) {
    const left = spec.frames - sent;
    let n = Math.min(left, MAX_CALL);
    if (spec.rate > 0) {
      const due = Math.min(Math.floor(elapsed() * spec.rate), spec.frames) - sent;
      if (due < Math.min(minChunk, left)) {
        Atomics.wait(sleeper, 0, 0, Math.max(0.05, ((sent + minChunk) / spec.rate - elapsed()) * 1000));
        continue;
      }
      n = Math.min(due, MAX_CALL);
    }
    sendFrames(prog, frame, ifindex, n);
    sent += n;
  }
  return { sent, seconds: elapsed() };
}

// Kernel builds that refuse live frames (EPERM) get each frame by a plain run and an AF_PACKET
// send out of the interface: slower, still far above the slow path's budgets.
let liveRefused = false;
let packetFd = -1;
const rewritten = Buffer.alloc(16384);
const rewrittenLength = new Uint32Array(1);
function sendFrames(prog: number, frame: Buffer, ifindex: number, n: number): void {
  if (!liveRefused) {
    try {
      progTestRun(prog, { data: frame, ifindex, live: true, repeat: n, batchSize: 64 });
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EPERM') throw err;
      liveRefused = true;
    }
  }
  if (packetFd < 0) packetFd = packetSocket(0);
  for (let i = 0; i < n; i++) {
    progRunInto(prog, frame, 0, frame.length, ifindex, 0, rewritten, rewrittenLength);
    packetSend(packetFd, ifindex, rewritten, 0, rewrittenLength[0]!);
  }
}

function handle(req: AgentRequest): unknown {
  switch (req.op) {
    case 'attach': return attach(req.ifname, req.program);
    case 'detach': return detach(req.ifname);
    case 'count': return count(req.ifname);
    case 'gen': return gen(req.spec);
  }
}

const reply = (r: AgentReply): boolean => process.stdout.write(`${JSON.stringify(r)}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, ...req } = JSON.parse(line) as AgentRequest & { id: number };
  try {
    reply({ id, ok: true, result: handle(req) ?? null });
  } catch (err) {
    reply({ id, ok: false, error: (err as Error).message });
  }
}).on('close', () => process.exit(0));
process.stdout.write('{"ready":true}\n');
