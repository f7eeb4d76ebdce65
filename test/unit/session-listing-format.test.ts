// The CLI's session listings as they are printed chunk by chunk: the JSON is
// one valid document whatever the chunking (an array, or a page object), the
// text says how to get the next page, and the summary reads as counts.
import t from 'tap';
import { JsonListing, TextListing, formatSummary, nextPageCommand } from '../../lib/cli/sessions-command.js';
import type { SessionView } from '../../lib/session/table.js';

function session(id: number, family: 'inet' | 'inet6' = 'inet'): SessionView {
  return {
    sessionId: id, family, protocol: 'udp', sourceAddress: family === 'inet' ? '10.1.0.2' : 'fd00:1::2', sourcePort: 40000 + id,
    destinationAddress: family === 'inet' ? '10.2.0.2' : 'fd00:2::2', destinationPort: 53, fromZone: 'trust', toZone: 'untrust',
    policy: 'allow-out', policyId: 65537, local: false, state: 'active', packetsFromClient: 1, bytesFromClient: 60,
    packetsFromServer: 1, bytesFromServer: 90, ageSeconds: 3, idleSeconds: 1, timeoutSeconds: 60,
  };
}

t.test('JSON: one document whatever the chunks', async (t) => {
  const print = (paged: boolean, chunks: SessionView[][], nextCursor: number | null): string => {
    const p = new JsonListing(paged);
    return chunks.map((c) => p.chunk(c)).join('') + p.end({ shown: chunks.flat().length, nextCursor });
  };
  t.same(JSON.parse(print(false, [], null)), []);
  t.same(JSON.parse(print(false, [[session(1), session(2)], [session(3)]], null)).map((s: SessionView) => s.sessionId), [1, 2, 3]);
  t.same(JSON.parse(print(true, [], null)), { sessions: [], nextCursor: null });
  const page = JSON.parse(print(true, [[session(1)], [session(2)]], 2)) as { sessions: SessionView[]; nextCursor: number };
  t.same([page.sessions.map((s) => s.sessionId), page.nextCursor], [[1, 2], 2]);
});

t.test('text: a table printed as it comes, ending with the total or the next page', async (t) => {
  const p = new TextListing(false, false);
  const out = p.chunk([session(1), session(2, 'inet6')]) + p.end({ shown: 2, nextCursor: null }, {}, undefined);
  t.match(out, /^Id +Proto +Source +Destination +Zones +Policy/);
  t.match(out, /\[fd00:1::2\]:40002 +\[fd00:2::2\]:53 +trust->untrust/);
  t.match(out, /Total sessions: 2\n$/);
  const paged = new TextListing(false, true);
  t.equal(paged.end({ shown: 0, nextCursor: null }, {}, 5), 'No sessions.\nShown: 0 sessions (the last page)\n');
  t.equal(nextPageCommand({ protocol: 'udp', sourcePrefix: '10.1.0.0/16' }, 5, { shown: 5, nextCursor: 17 }),
    'xdpfw show sessions --protocol udp --source-prefix 10.1.0.0/16 --limit 5 --cursor 17');
  t.equal(nextPageCommand({}, 5, { shown: 3, nextCursor: null }), null, 'no next page after the last');
});

t.test('summary', async (t) => {
  const text = formatSummary({
    total: 3, byState: { established: 2, active: 1 }, byProtocol: { tcp: 2, udp: 1 }, byFamily: { inet: 3 },
    byZonePair: [{ fromZone: 'trust', toZone: 'untrust', sessions: 3 }],
  });
  t.match(text, /^Sessions: 3\n {2}by state: +established 2, active 1\n {2}by protocol: tcp 2, udp 1\n {2}by family: +inet 3\nBy zone pair:\n {2}trust -> untrust +3$/);
});
