// The session store (lib/session/store.ts): typed-array slots in id order,
// a key index over both directions, holes reclaimed by compaction.
import t from 'tap';
import { SESSION_KEY } from '../../lib/dataplane/layout.js';
import { NO_FILTER } from '../../lib/filter/descriptor.js';
import { SessionStore, type StoredSession } from '../../lib/session/store.js';
import { reverseKey } from '../../lib/session/flow-key.js';

const K = SESSION_KEY.offset;

/** A UDP session 10.0.x.y:port -> 192.0.2.1:53 with id `id`; local: one direction only. */
function session(id: number, port = id & 0xffff, local = false): StoredSession {
  const key = Buffer.alloc(SESSION_KEY.size);
  key[K.family] = 2;
  key[K.protocol] = 17;
  key.writeUInt32BE((10 << 24) | (id >>> 16), K.src_addr);
  key.writeUInt16BE(port, K.src_port);
  key.writeUInt32BE(0xc0000201, K.dst_addr);
  key.writeUInt16BE(53, K.dst_port);
  return {
    fromZone: 'trust', fromZoneId: 1, toZone: local ? 'junos-host' : 'untrust', toZoneId: 2, policyId: id % 7, policyName: `p${id % 7}`,
    ingressIfindex: 3, egressIfindex: 4, local, boxConnection: false, logClose: id % 2 === 0, icmpType: 0,
    inactivityTimeout: id % 3 === 0 ? 30 : null, first: { tcpFlags: 2, icmpCode: 0, dscp: id % 64 },
    filters: { client: { input: NO_FILTER, output: { ...NO_FILTER, filterId: id % 5 } }, server: { input: NO_FILTER, output: NO_FILTER } },
    id, key, reverse: reverseKey(key, Buffer.alloc(SESSION_KEY.size)) as Buffer, createdNs: BigInt(id) * 1000n, createdAtMs: 1e12 + id,
    tcp: null,
  };
}

t.test('grows past its first size and gives back every field', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 4);
  for (let id = 1; id <= 5000; id++) store.add(session(id));
  t.equal(store.size, 5000);
  for (const id of [1, 4, 5, 1023, 1024, 4999, 5000]) {
    const want = session(id);
    const got = store.view(store.slotOfId(id));
    t.same({ ...got, tuple: undefined }, { ...want, tuple: undefined }, `session ${id} as added`);
    t.equal(got.tuple.sourcePort, id & 0xffff);
    t.equal(store.slotOfKey(want.key), store.slotOfId(id), 'found by its key');
    t.equal(store.slotOfKey(want.reverse), store.slotOfId(id), 'and by the reverse key');
  }
  t.equal(store.slotOfId(5001), -1, 'an id never added');
  t.end();
});

t.test('a session to the box is found by its one key only', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 4);
  const s = session(7, 7, true);
  store.add(s);
  t.equal(store.slotOfKey(s.key), 0);
  t.equal(store.slotOfKey(s.reverse), -1);
  t.end();
});

t.test('removal: gone from both indexes; the holes are reclaimed in id order', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 8);
  for (let id = 1; id <= 1000; id++) store.add(session(id));
  for (let id = 1; id <= 1000; id++) if (id % 4 !== 0) store.remove(store.slotOfId(id));
  t.equal(store.size, 250);
  t.equal(store.slotOfKey(session(5).key), -1, 'removed: not found by key');
  t.equal(store.slotOfId(5), -1, 'nor by id');
  const epoch = store.epoch;
  // Filling up the room compacts instead of growing: 750 holes taken back.
  for (let id = 1001; id <= 1774; id++) store.add(session(id));
  t.ok(store.epoch > epoch, 'compacted');
  t.equal(store.size, 1024);
  const ids: number[] = [];
  for (let slot = store.nextLive(0); slot >= 0; slot = store.nextLive(slot + 1)) ids.push(store.idOf(slot));
  t.equal(ids.length, 1024);
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'still in id order');
  for (const id of [4, 1000, 1001, 1774]) t.equal(store.idOf(store.slotOfKey(session(id).reverse)), id, `session ${id} found by key after compaction`);
  t.equal(store.idOf(store.slotAfterId(5)), 8, 'the first held id after a removed one');
  t.end();
});

t.test('index collisions: keys differing in one byte, long probe chains, removals in the middle', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 2);
  // Every port of one address: many keys share hash-table neighbourhoods.
  for (let id = 1; id <= 20_000; id++) store.add(session(id, id & 0xffff));
  for (let id = 2; id <= 20_000; id += 3) store.remove(store.slotOfId(id));
  let found = 0;
  for (let id = 1; id <= 20_000; id++) {
    const slot = store.slotOfKey(session(id, id & 0xffff).key);
    if ((id - 2) % 3 === 0) t.equal(slot, -1, `removed ${id}`);
    else if (store.idOf(slot) === id) found++;
  }
  t.equal(found, store.size, 'every held session found by its key');
  t.end();
});

t.test('ids must grow; the newest removed gives its slot back', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 4);
  store.add(session(10));
  t.throws(() => store.add(session(10)), RangeError);
  store.add(session(11));
  store.remove(store.slotOfId(11));
  t.equal(store.add(session(12)), 1, 'slot 1 again');
  t.equal(store.slotOfId(11), -1);
  t.end();
});

t.test('updates and due seconds', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 4);
  const s = session(3);
  const slot = store.add(s);
  store.update(slot, { ...s, policyName: 'renamed', policyId: 99, fromZone: 'dmz', fromZoneId: 9 });
  store.setTcp(slot, 'established');
  const v = store.view(slot);
  t.same([v.policyName, v.policyId, v.fromZone, v.fromZoneId, v.tcp], ['renamed', 99, 'dmz', 9, 'established']);
  store.setDue(slot, 1234);
  t.equal(store.dueOf(slot), 1234);
  t.equal(store.scheduledCount, 1);
  store.remove(slot);
  t.equal(store.scheduledCount, 0, 'a removed session is no longer scheduled');
  t.end();
});

t.test('churn: sessions opened and closed for ever keep the index sized by the live ones', (t) => {
  const store = new SessionStore(SESSION_KEY.size, 16);
  for (let id = 1; id <= 300_000; id++) {
    store.add(session(id));
    if (id > 100) store.remove(store.slotOfId(id - 100));
  }
  t.equal(store.size, 100);
  t.ok(store.indexSlots <= 4096, `index of ${store.indexSlots} slots for 100 sessions`);
  for (let id = 299_901; id <= 300_000; id++) t.equal(store.idOf(store.slotOfKey(session(id).key)), id);
  t.end();
});
