// Sessions survive the active box's death. Two boxes, a (active) and b, share
// a client and a server segment; real keepalived and conntrackd run with the
// files `xdpfw ha generate` writes. Through a: idle TCP echo connections and a
// long paced download. a mirrors its sessions into its conntrack table
// (`conntrack -L` lists them with xdpfw's mark) and conntrackd ships them to b.
// Then a dies: its daemon killed with -9, its XDP detached, its keepalived and
// conntrackd killed. b becomes active, commits conntrackd's cache and adopts the
// sessions: the download completes, every idle connection echoes again, and
// the adopted flows' packets go through b's XDP, not its slow path. The gap in
// the download is measured and reported.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { type Box, HaPair, SERVER4 } from '../helpers/ha-pair.js';
import { FlowClient, startServer } from '../helpers/ha-flows.js';
import type { HaStatus } from '../../lib/ha/roles.js';
import type { CountersReport } from '../../lib/daemon/reports.js';
import { request } from '../../lib/control/client.js';
import { statePaths } from '../../lib/daemon/state-paths.js';

const run = promisify(execFile);
const WAIT_MS = 60_000;
const IDLE = 5;
/** The download: 64 MB at 40 KB every 10 ms (about 4 MB/s, 16 s). */
const TOTAL = 64 << 20;
const PER_TICK = 40 << 10;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pair = await HaPair.create({ servers: true });
t.teardown(() => pair.destroy());
const ha = (box: Box) => request<HaStatus>(statePaths(pair.stateDir(box)).socket, { command: 'show-ha' });
const counters = (box: Box) => request<CountersReport>(statePaths(pair.stateDir(box)).socket, { command: 'show-counters' });
const role = async (box: Box) => (await ha(box)).groups.find((g) => g.group === 1)?.role ?? null;

for (const box of ['a', 'b'] as const) pair.writeConfig(box, box === 'a' ? 200 : 100);
const conf = { a: await pair.conntrackdConf('a'), b: await pair.conntrackdConf('b') };
await Promise.all([
  pair.loadDaemon('a', 200, ['--conntrackd-config', conf.a]),
  pair.loadDaemon('b', 100, ['--conntrackd-config', conf.b]),
]);
await Promise.all([pair.startConntrackd('a'), pair.startConntrackd('b')]);
await Promise.all([pair.startKeepalived('a'), pair.startKeepalived('b')]);
await until('a active, b backup', async () => (await role('a')) === 'active' && (await role('b')) === 'backup');
// b's neighbours on both segments, as a standby that has seen traffic has them.
await pair.sh('b', 'ping -c 1 -W 2 10.1.0.2; ping -c 1 -W 2 10.2.0.2; true');

const server = await startServer(pair.dir, pair.ns.server, TOTAL, PER_TICK);
t.teardown(() => { server.kill('SIGKILL'); });
const client = new FlowClient(pair.dir, pair.ns.client, SERVER4, IDLE);
t.teardown(() => client.kill());

t.test('the idle connections and the download run through a', async (t) => {
  t.equal(await client.next((r) => r.idle, 30_000), IDLE, 'every idle connection echoed once');
  await client.next((r) => (r.progress !== undefined && r.progress > 1 << 20 ? true : undefined), 30_000);
  t.same(client.errors(), []);
});

t.test('a mirrors its sessions: conntrack -L in a lists them with xdpfw\'s mark; b\'s conntrackd holds them', async (t) => {
  const s = await until('a mirroring every session', async () => {
    const m = (await ha('a')).sessions?.mirror;
    return m && m.tracked >= IDLE + 1 ? m : null;
  });
  t.ok(s.mirrored >= IDLE + 1, `${s.mirrored} sessions mirrored`);
  t.equal(s.queueDrops, 0, 'nothing dropped from the queue');
  t.equal(s.kernelErrors, 0, 'nothing refused by the kernel');
  const listed = await pair.sh('a', 'conntrack -L --mark 0x58000000/0xff000000 2>/dev/null');
  const echo = listed.split('\n').filter((l) => l.includes(`dst=${SERVER4}`) && l.includes('dport=7000') && l.includes('ESTABLISHED'));
  t.equal(echo.length, IDLE, 'each idle connection is an ESTABLISHED conntrack entry with the mark');
  t.equal(listed.split('\n').filter((l) => l.includes(`dst=${SERVER4}`) && l.includes('dport=7001') && l.includes('ESTABLISHED')).length, 1, 'so is the download');
  const received = await until('b\'s external cache holding them', async () => {
    const { stdout } = await run('conntrackd', ['-C', conf.b, '-e']);
    const n = stdout.split('\n').filter((l) => l.includes(`dst=${SERVER4}`)).length;
    return n >= IDLE + 1 ? n : null;
  });
  t.ok(received >= IDLE + 1, `b's conntrackd received ${received}`);
  t.match(await pair.xdpfw('a', ['show', 'ha']), /Sessions mirrored into the conntrack table: \d+/);
});

t.test('a dies (daemon -9, XDP detached, keepalived and conntrackd -9): b adopts, every flow continues, in XDP', async (t) => {
  t.notOk(client.reports.some((r) => r.bulk), 'the download still runs when a dies');
  const before = await counters('b');
  const progressBefore = client.reports.length;
  const t0 = performance.now();
  const killedAt = Date.now();
  await pair.killDaemon('a');
  await pair.killKeepalived('a');
  pair.killConntrackd('a');
  const tKilled = performance.now();

  // What the user sees first: the connections go on.
  const probe = await client.probe(30_000);
  t.same(probe, Array(IDLE).fill(true), 'every idle connection echoes through b');
  const bulk = await client.next((r) => r.bulk, 120_000, progressBefore);
  t.equal(bulk.bytes, TOTAL, 'the download completed');
  t.same(client.errors(), [], 'no connection reset');

  const adoption = (await ha('b')).sessions?.adoption;
  if (!adoption) throw new Error('b adopted nothing');
  t.ok(adoption.adopted >= IDLE + 1, `b adopted ${adoption.adopted} sessions (${adoption.entries} entries, refused ${JSON.stringify(adoption.refused)})`);
  t.equal(adoption.committed, true, 'conntrackd\'s external cache was committed');
  const adoptedAfterMs = Date.parse(adoption.at) - killedAt;

  const after = await counters('b');
  const viaSlowPath = after.slowPathPackets - before.slowPathPackets;
  const viaXdp = after.fastPathPackets - before.fastPathPackets;
  t.ok(viaXdp > 1000, `b forwarded ${viaXdp} packets in XDP`);
  t.ok(viaSlowPath < 50, `b's slow path saw ${viaSlowPath} packets (not one per packet of the adopted flows)`);
  const s = (await ha('b')).sessions!;
  t.equal(s.adoptedTotal, adoption.adopted);
  t.match(await pair.xdpfw('b', ['show', 'ha']), /Adopted on becoming active: \d+ \(refused 0\)/);
  t.comment(`failover: a killed in ${(tKilled - t0).toFixed(0)} ms; b's adoption done ${adoptedAfterMs} ms after the kill began ` +
    `(commit ${adoption.commitMs} ms, adoption ${adoption.durationMs} ms in all); longest gap in the download ${bulk.maxGapMs} ms ` +
    `(at byte ${bulk.gapAtBytes}); b: ${viaXdp} packets in XDP, ${viaSlowPath} in the slow path`);
});
