// On becoming active: conntrackd's external cache (what the peer mirrored) is
// committed into this box's conntrack table, the entries with xdpfw's mark are
// read back (one netlink dump through dist/bin/xdpfw-ct) and each is judged
// against the running configuration exactly as a reload judges a session
// (lib/daemon/recheck.ts: zones from the interfaces its routes take, then
// policy and filters). Those permitted are installed as sessions in batches,
// TCP ones picked up mid-stream (liberal windows, no syn-check), so their next
// packets are forwarded by XDP without the slow path.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Zone } from '../config/types.js';
import { judge, filtersOf } from '../daemon/recheck.js';
import { SESSION_KEY } from '../dataplane/layout.js';
import type { PolicyEngine } from '../policy/engine.js';
import { IPPROTO_TCP, IPPROTO_UDP, describeKey, reverseKey } from '../session/flow-key.js';
import { FIRST_PACKET_UNKNOWN, NO_FILTERS, type SessionTable } from '../session/table.js';
import type { Session } from '../session/types.js';
import type { FlowFilters } from '../slowpath/flow-filters.js';
import { ROUTE_BATCH_CAPACITY, type RouteBatch } from '../slowpath/route-batch.js';
import { CT_HELPER, type CtEntry, MIRROR_MARK_MASK, MIRROR_MARK_TAG, POLICY_ID_MASK, decodeCtRecords, tcpStateOfConntrack } from './ct-record.js';

const run = promisify(execFile);

/** Why a mirrored entry was not adopted. */
export type AdoptionRefusal = 'policy' | 'no-route' | 'local' | 'routing-instance' | 'tcp-state' | 'protocol' | 'table-full';

export interface AdoptionReport {
  /** When the adoption ran (ISO time). */
  at: string;
  /** conntrackd's commit: true done, false failed (see commitError), null not asked (no conntrackd config). */
  committed: boolean | null;
  commitError: string | null;
  /** Entries with xdpfw's mark in the conntrack table after the commit. */
  entries: number;
  adopted: number;
  /** Already sessions here (this box forwarded them itself). */
  present: number;
  refused: Partial<Record<AdoptionRefusal, number>>;
  commitMs: number;
  durationMs: number;
}

export interface AdoptionContext {
  sessions: SessionTable;
  policies: PolicyEngine;
  zones: ReadonlyMap<number, Zone>;
  filters: FlowFilters;
  routes: RouteBatch;
  /** The policy asks for session-close events. */
  logsClose(policyId: number): boolean;
}

/** `conntrackd -C conf -c`: the external cache into the kernel's table. */
export async function commitExternalCache(conf: string): Promise<{ ok: boolean; error: string | null }> {
  try {
    await run('conntrackd', ['-C', conf, '-c'], { timeout: 60_000 });
    return { ok: true, error: null };
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return { ok: false, error: (e.stderr?.trim() || e.message).slice(0, 300) };
  }
}

/** The conntrack table's entries carrying xdpfw's mark (one netlink dump). */
export function dumpMirrored(helper = CT_HELPER): Promise<CtEntry[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, ['dump', String(MIRROR_MARK_TAG), String(MIRROR_MARK_MASK)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(decodeCtRecords(Buffer.concat(chunks)));
      else reject(new Error(`xdpfw-ct dump: ${err.trim() || `exit ${code}`}`));
    });
  });
}

/** Judges and installs the entries, ROUTE_BATCH_CAPACITY / 2 at a time (two route questions each, one map write). */
export function adoptEntries(entries: readonly CtEntry[], ctx: AdoptionContext): Pick<AdoptionReport, 'adopted' | 'present' | 'refused'> {
  const report: Pick<AdoptionReport, 'adopted' | 'present' | 'refused'> = { adopted: 0, present: 0, refused: {} };
  const refuse = (why: AdoptionRefusal): void => { report.refused[why] = (report.refused[why] ?? 0) + 1; };
  const anyIfindex = ctx.zones.keys().next().value;
  if (anyIfindex === undefined) {
    for (let i = 0; i < entries.length; i++) refuse('no-route');
    return report;
  }
  const chunk = ROUTE_BATCH_CAPACITY / 2;
  for (let from = 0; from < entries.length; from += chunk) {
    const candidates: CtEntry[] = [];
    for (const e of entries.slice(from, from + chunk)) {
      const protocol = e.key[SESSION_KEY.offset.protocol];
      if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) refuse('protocol');
      else if (ctx.sessions.lookup(e.key)) report.present++;
      else if (protocol === IPPROTO_TCP && !adoptableTcp(e.tcpState)) refuse('tcp-state');
      else candidates.push(e);
    }
    if (candidates.length === 0) continue;
    // Where the client is (the route back to it), then where the server is from there.
    ctx.routes.clear();
    const back = candidates.map((e) => ctx.routes.add(reverseKey(e.key, Buffer.alloc(SESSION_KEY.size)), 0, 0));
    ctx.routes.resolve(anyIfindex, 0);
    const clientSide = back.map((slot) => ctx.routes.route(slot));
    ctx.routes.clear();
    const ahead = candidates.map((e) => ctx.routes.add(e.key, 0, 0));
    ctx.routes.resolve(clientSide.find((r) => r.egress !== 0)?.egress ?? anyIfindex, 0);
    const serverSide = ahead.map((slot) => ctx.routes.route(slot));
    ctx.sessions.beginBatch();
    try {
      candidates.forEach((e, i) => {
        const cr = clientSide[i]!;
        const sr = serverSide[i]!;
        if (sr.local || cr.local) return refuse('local');
        if (cr.egress === 0 || sr.egress === 0) return refuse('no-route');
        const outcome = adoptOne(e, cr.egress, sr.egress, ctx);
        if (outcome === null) report.adopted++;
        else refuse(outcome);
      });
    } finally {
      // Refused by the map: counted as the table being full (the sessions are forgotten again).
      for (const r of ctx.sessions.commitBatch()) {
        report.adopted--;
        void r;
        refuse('table-full');
      }
    }
  }
  return report;
}

function adoptableTcp(state: number): boolean {
  const name = tcpStateOfConntrack(state);
  return name === 'established' || name === 'fin-wait' || name === 'close-wait' || name === 'last-ack';
}

/** Judges one entry as a reload judges a session; installs it if permitted. null: adopted. */
function adoptOne(e: CtEntry, ingress: number, egress: number, ctx: AdoptionContext): AdoptionRefusal | null {
  const key = e.key;
  const protocol = key[SESSION_KEY.offset.protocol]!;
  const fromZone = ctx.zones.get(ingress);
  const toZone = ctx.zones.get(egress);
  if (!fromZone || !toZone) return 'policy';
  // What judge() and filtersOf() read of a session, as it would stand on this box.
  const probe = {
    key, reverse: reverseKey(key, Buffer.alloc(SESSION_KEY.size)), tuple: describeKey(key),
    ingressIfindex: ingress, egressIfindex: egress, local: false, boxConnection: false,
    policyId: e.mark & POLICY_ID_MASK, policyName: '', fromZone: fromZone.name, fromZoneId: fromZone.id,
    toZone: toZone.name, toZoneId: toZone.id, icmpType: 0, first: FIRST_PACKET_UNKNOWN, filters: NO_FILTERS,
    logClose: false, inactivityTimeout: null, id: 0, createdNs: 0n, createdAtMs: 0, tcp: null,
  } as Session;
  const verdict = judge(probe, ctx.policies, ctx.zones);
  if (verdict === null) return 'policy';
  const filters = filtersOf(probe, ctx.filters);
  // A filter sending the flow to another routing table: its route here is another one.
  if (filters.client.input.tableId !== 0 || filters.server.input.tableId !== 0) return 'routing-instance';
  const installed = ctx.sessions.install(key, {
    fromZone: verdict.fromZone.name, fromZoneId: verdict.fromZone.id, toZone: verdict.toZoneName, toZoneId: verdict.toZoneId,
    policyId: verdict.policyId, policyName: verdict.policyName, ingressIfindex: ingress, egressIfindex: egress,
    local: false, boxConnection: false, logClose: ctx.logsClose(verdict.policyId), icmpType: 0, inactivityTimeout: null,
    first: FIRST_PACKET_UNKNOWN, filters,
  }, protocol, protocol === IPPROTO_TCP ? { state: tcpStateOfConntrack(e.tcpState)!, wscale: e.wscale } : undefined);
  return installed.ok ? null : 'table-full';
}
