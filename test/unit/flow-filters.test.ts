// The verdicts a new session caches for XDP (lib/slowpath/flow-filters.ts):
// the client direction meets the input filter of its ingress interface and
// the output filter of its egress, the server direction the other two, judged
// as the reply (addresses and ports swapped, SYN+ACK to a SYN, echo reply to
// an echo request); a session to the box meets the lo0 filter instead.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { FILTER_ACTION_CODE, FILTER_FLAG_LOG, NO_FILTER } from '../../lib/filter/descriptor.js';
import { FlowFilters } from '../../lib/slowpath/flow-filters.js';

function compiled(text: string): CompiledConfig {
  const r = compileText(text, 'flow-filters.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

const CONFIG = compiled(`
security { zones {
  security-zone trust { interfaces { trust0; } }
  security-zone untrust { interfaces { untrust0; } }
} }
firewall { family inet {
  filter from-clients {
    term web { from { protocol tcp; destination-port 80; } then { count web; accept; } }
    term ping { from { protocol icmp; icmp-type echo-request; } then accept; }
  }
  filter from-servers {
    term synack { from { protocol tcp; source-port 80; tcp-flags "syn & ack"; } then { log; accept; } }
    term pong { from { protocol icmp; icmp-type echo-reply; } then discard; }
  }
  filter to-servers { term all { then { count out; accept; } } }
  filter protect-re { term ssh { from { protocol tcp; destination-port 22; } then { reject; } } term rest { then accept; } }
} }
interfaces {
  trust0 { unit 0 { family inet { filter { input from-clients; } } } }
  untrust0 { unit 0 { family inet { filter { input from-servers; output to-servers; } } } }
  lo0 { unit 0 { family inet { filter { input protect-re; } } } }
}`);

const IFINDEX: Record<string, number> = { trust0: 1, untrust0: 2 };
const filters = new FlowFilters(CONFIG, (name) => IFINDEX[name] ?? null);
const id = (name: string): number => CONFIG.firewall.filters.find((f) => f.name === name)!.id;
const term = (filter: string, name: string): number => CONFIG.firewall.filters.find((f) => f.name === filter)!.terms.find((x) => x.name === name)!.id;

const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
const SYN = 0x02;

t.test('a forwarded TCP session: four verdicts, the server direction judged as the SYN+ACK', async (t) => {
  const f = filters.sessionFilters({
    family: 2, protocol: 6, source: v4('10.1.0.2'), destination: v4('10.2.0.2'), sourcePort: 40000, destinationPort: 80, icmpType: 0,
  }, { tcpFlags: SYN, icmpCode: 0, dscp: 0 }, 1, 2, false);
  t.match(f.client.input, { filterId: id('from-clients'), termId: term('from-clients', 'web'), action: FILTER_ACTION_CODE.accept });
  t.ok(f.client.input.counter > 0, 'the `count` counter is cached');
  t.match(f.client.output, { filterId: id('to-servers'), termId: term('to-servers', 'all'), action: FILTER_ACTION_CODE.accept });
  t.match(f.server.input, { filterId: id('from-servers'), termId: term('from-servers', 'synack'), flags: FILTER_FLAG_LOG },
    'source port 80 and SYN+ACK: the reply matched');
  t.same(f.server.output, NO_FILTER, 'trust0 has no output filter');
});

t.test('an ICMP echo: the reply is an echo reply', async (t) => {
  const f = filters.sessionFilters({
    family: 2, protocol: 1, source: v4('10.1.0.2'), destination: v4('10.2.0.2'), sourcePort: 7, destinationPort: 0, icmpType: 8,
  }, { tcpFlags: 0, icmpCode: 0, dscp: 0 }, 1, 2, false);
  t.match(f.client.input, { termId: term('from-clients', 'ping'), action: FILTER_ACTION_CODE.accept });
  t.match(f.server.input, { termId: term('from-servers', 'pong'), action: FILTER_ACTION_CODE.discard }, 'the echo reply is discarded');
});

t.test('a flow no term matches caches the implicit discard', async (t) => {
  const f = filters.sessionFilters({
    family: 2, protocol: 17, source: v4('10.1.0.2'), destination: v4('10.2.0.2'), sourcePort: 5000, destinationPort: 53, icmpType: 0,
  }, { tcpFlags: 0, icmpCode: 0, dscp: 0 }, 1, 2, false);
  t.match(f.client.input, { filterId: id('from-clients'), termId: 0, action: FILTER_ACTION_CODE.discard });
});

t.test('a session to the box meets the lo0 filter, and has no server direction in XDP', async (t) => {
  const f = filters.sessionFilters({
    family: 2, protocol: 6, source: v4('10.1.0.2'), destination: v4('10.1.0.1'), sourcePort: 40000, destinationPort: 22, icmpType: 0,
  }, { tcpFlags: SYN, icmpCode: 0, dscp: 0 }, 1, 0, true);
  t.match(f.client.output, { filterId: id('protect-re'), termId: term('protect-re', 'ssh'), action: FILTER_ACTION_CODE.reject });
  t.same(f.server, { input: NO_FILTER, output: NO_FILTER });
});

t.test('sessionFilters counts nothing; judge() counts', async (t) => {
  const before = filters.engine.counts().find((c) => c.counter === 'web')!.packets;
  filters.sessionFilters({
    family: 2, protocol: 6, source: v4('10.1.0.2'), destination: v4('10.2.0.2'), sourcePort: 40001, destinationPort: 80, icmpType: 0,
  }, { tcpFlags: SYN, icmpCode: 0, dscp: 0 }, 1, 2, false);
  t.equal(filters.engine.counts().find((c) => c.counter === 'web')!.packets, before);
  t.equal(filters.input(1, 'inet'), id('from-clients'));
  t.equal(filters.output(2, 'inet'), id('to-servers'));
  t.equal(filters.input(3, 'inet'), null, 'an interface without filters');
  t.equal(filters.input(1, 'inet6'), null, 'no inet6 filter');
});
