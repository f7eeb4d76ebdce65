// Whether `ip -j rule` / `ip -j route` output names a rule or route that selects by TOS: what
// makes the route watch tell XDP that kept next hops cannot serve IPv4 packets (bpf/egress_cache.h).
import t from 'tap';
import { selectsByTos } from '../../lib/routes/route-watch.js';

t.test('rules and routes with a TOS select by it; the others do not', async (t) => {
  // As iproute2 6.x prints them.
  t.equal(selectsByTos('[{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"}]'), false, 'the default rules');
  t.equal(selectsByTos('[{"priority":100,"src":"all","tos":"0x10","table":"main"}]'), true, 'a rule with tos');
  t.equal(selectsByTos('[{"dst":"10.0.0.0/8","tos":"0x10","dev":"lo","scope":"link","flags":[]}]'), true, 'a route with tos');
  t.equal(selectsByTos('[{"dst":"10.0.0.0/8","dsfield":"0x10","dev":"lo"}]'), true, 'named dsfield');
  t.equal(selectsByTos('[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]'), false, 'a plain route');
  t.equal(selectsByTos(''), false, 'no output: no rules');
  t.equal(selectsByTos('not json'), true, 'unreadable output: assumed to select by TOS (fail safe)');
});
