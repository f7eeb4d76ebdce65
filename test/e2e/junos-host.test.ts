// Policies `to-zone junos-host` judge traffic to the box itself after the zone's
// host-inbound-traffic admitted it, as on Junos: the first matching rule decides (logged with
// junos-host as destination zone); a flow no rule matches stays admitted; a zone pair without
// such policies is host-inbound-traffic's alone; what host-inbound-traffic refuses no policy
// lets in. Real TCP and ICMP to the firewall's own addresses.
import t from 'tap';
import type { CountersReport } from '../../lib/daemon/reports.js';
import type { MatchResult, PoliciesReport } from '../../lib/daemon/policies-report.js';
import type { SessionView } from '../../lib/session/table.js';
import { ADDR, Topology } from '../helpers/topology.js';

interface SendResult { ok: boolean; error?: string; received?: number; localPort?: number }
interface EventJson {
  kind: string; sourceAddress: string; destinationAddress: string; destinationPort: number;
  sourceZone: string | null; destinationZone: string | null; policy: string | null; action?: string;
}

const CONFIG = `
security {
    zones {
        security-zone trust {
            interfaces { trust0; }
            host-inbound-traffic { system-services { ssh; http; ping; } }
        }
        security-zone untrust {
            interfaces { untrust0; }
            host-inbound-traffic { system-services { ssh; } }
        }
    }
    policies {
        from-zone trust to-zone junos-host {
            policy ssh-in {
                match { source-address any; destination-address any; application junos-ssh; }
                then { permit; log { session-init; } }
            }
            policy no-http {
                match { source-address any; destination-address any; application junos-http; }
                then { reject; log { session-init; } }
            }
        }
        default-policy { deny-all; }
    }
}`;

let topo: Topology;
t.before(async () => {
  topo = await Topology.create();
  for (const port of ['22', '80', '8080']) await topo.startTraffic('fw', ['tcp-sink', '--port', port]);
  const r = await topo.xdpfw(['load', '-c', topo.writeConfig(CONFIG)]);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(() => topo?.destroy());

const send = (from: 'client' | 'server', host: string, port: number): Promise<SendResult> =>
  topo.traffic<SendResult>(from, ['tcp-send', '--host', host, '--port', String(port), '--bytes', '500', '--timeout', '1500']);

t.test('a permitting junos-host policy admits the service and names itself', async (t) => {
  const r = await send('client', ADDR.fwTrust4, 22);
  t.match(r, { ok: true, received: 500 }, 'ssh to the box: permitted');
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  const s = sessions.find((x) => x.destinationPort === 22 && x.sourcePort === r.localPort);
  t.match(s, { fromZone: 'trust', toZone: 'junos-host', policy: 'ssh-in', local: true, destinationAddress: ADDR.fwTrust4 }, 'its session');
  const log = await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'session-create']);
  t.ok(log.some((e) => e.destinationPort === 22 && e.sourceZone === 'trust' && e.destinationZone === 'junos-host' && e.policy === 'ssh-in'),
    'RT_FLOW session create names junos-host and the policy');
});

t.test('a rejecting junos-host policy refuses a service host-inbound-traffic admits, with an event', async (t) => {
  const before = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.match(await send('client', ADDR.fwTrust4, 80), { ok: false, error: 'ECONNREFUSED' }, 'http to the box: reset');
  const after = await topo.xdpfwJson<CountersReport>(['show', 'counters']);
  t.ok((after.drops.policy_reject ?? 0) > (before.drops.policy_reject ?? 0), 'counted as policy_reject');
  const log = await topo.xdpfwJson<EventJson[]>(['show', 'log', '--kind', 'policy-deny']);
  t.ok(log.some((e) => e.destinationPort === 80 && e.destinationAddress === ADDR.fwTrust4 && e.destinationZone === 'junos-host' &&
    e.policy === 'no-http' && e.action === 'reject'), 'RT_FLOW session deny names junos-host, the policy and the action');
  const sessions = await topo.xdpfwJson<SessionView[]>(['show', 'sessions']);
  t.notOk(sessions.some((s) => s.destinationPort === 80), 'no session');
});

t.test('what no junos-host policy matches stays admitted; what host-inbound-traffic refuses stays refused', async (t) => {
  const ping = await topo.exec('client', 'ping', ['-c', '1', '-W', '3', ADDR.fwTrust4]);
  t.equal(ping.code, 0, 'ping (admitted by host-inbound-traffic, no rule for it) answered');
  t.match(await send('client', ADDR.fwTrust4, 8080), { ok: false, error: 'ETIMEDOUT' }, 'a port no service admits: dropped');
  t.match(await send('server', ADDR.fwUntrust4, 22), { ok: true, received: 500 }, 'a zone without junos-host policies: host-inbound-traffic alone');
});

t.test('show policies and match-policies know the junos-host zone', async (t) => {
  const shown = await topo.xdpfwJson<PoliciesReport>(['show', 'policies']);
  t.match(shown.policies.map((p) => [p.name, p.fromZone, p.toZone, p.action]), [['ssh-in', 'trust', 'junos-host', 'permit'], ['no-http', 'trust', 'junos-host', 'reject']]);
  t.ok(shown.policies[1]!.hits >= 1, 'the rejecting rule counted its hit');
  const match = (port: number, protocol = 'tcp') => topo.xdpfwJson<MatchResult>(['match-policies', '--from-zone', 'trust', '--to-zone', 'junos-host',
    '--source-ip', ADDR.client4, '--destination-ip', ADDR.fwTrust4, '--protocol', protocol, '--destination-port', String(port)]);
  t.match(await match(22), { policy: 'ssh-in', action: 'permit', toZone: 'junos-host' });
  t.match(await match(80), { policy: 'no-http', action: 'reject' });
  t.match(await match(0, 'icmp'), { policy: 'host-inbound-traffic', action: 'permit' });
});

t.test('a reload re-judges sessions to the box by the new junos-host rules', async (t) => {
  const stream = await topo.startTraffic('client', [
    'tcp-trickle', '--host', ADDR.fwTrust4, '--port', '22', '--count', '600', '--interval', '100', '--timeout', '30000',
  ], 120_000);
  const port = (JSON.parse(stream.lines[0]!) as { localPort: number }).localPort;
  const listed = async () => (await topo.xdpfwJson<SessionView[]>(['show', 'sessions'])).find((s) => s.destinationPort === 22 && s.sourcePort === port);
  t.match(await listed(), { toZone: 'junos-host', policy: 'ssh-in' }, 'an ssh stream to the box, admitted by ssh-in');
  const denying = CONFIG.replace('application junos-ssh; }\n                then { permit; log { session-init; } }', 'application junos-ssh; }\n                then { deny; }');
  t.not(denying, CONFIG, 'the variant denies ssh');
  const r = await topo.xdpfw(['reload', '-c', topo.writeConfig(denying), '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { sessions: { closed: number } };
  t.ok(report.sessions.closed >= 1, `the reload closed it (${r.stdout.trim()})`);
  t.equal(await listed(), undefined, 'it is gone');
  t.match(await send('client', ADDR.fwTrust4, 22), { ok: false, error: 'ETIMEDOUT' }, 'a new ssh connection is denied');
  stream.child.kill();
});
