// The pieces of session mirroring and adoption that need no namespace: the record
// layout shared with the compiled helper (dist/bin/xdpfw-ct), records written and read
// back, keepalived's FIFO lines, conntrackd's cache statistics.
import t from 'tap';
import { SESSION_KEY } from '../../lib/dataplane/layout.js';
import {
  CT_RECORD, CT_UPSERT, MIRROR_MARK_TAG, NO_WSCALE, conntrackTcpState, ctRecordLayoutDiff, decodeCtRecords, encodeCtRecord, tcpStateOfConntrack,
} from '../../lib/ha/ct-record.js';
import { parseNotifyLine } from '../../lib/ha/notify-fifo.js';
import { externalCacheEntries } from '../../lib/ha/sessions.js';

t.test('the record layout here is the one the helper was compiled with', async (t) => {
  t.same(ctRecordLayoutDiff(), []);
  t.equal(CT_RECORD.size, 56);
});

t.test('a record written is read back: tuple, state, timeout, mark', async (t) => {
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = 2;
  key[SESSION_KEY.offset.protocol] = 6;
  key.writeUInt16BE(40000, SESSION_KEY.offset.src_port);
  key.writeUInt16BE(443, SESSION_KEY.offset.dst_port);
  key.set([10, 1, 0, 2], SESSION_KEY.offset.src_addr);
  key.set([10, 2, 0, 9], SESSION_KEY.offset.dst_addr);
  const buf = Buffer.alloc(2 * CT_RECORD.size, 0xee);
  encodeCtRecord(buf, CT_RECORD.size, CT_UPSERT, key, conntrackTcpState('established'), 1860, MIRROR_MARK_TAG | 7);
  const [, e] = decodeCtRecords(buf);
  t.same(e!.key, key);
  t.equal(tcpStateOfConntrack(e!.tcpState), 'established');
  t.equal(e!.timeoutS, 1860);
  t.equal(e!.mark, 0x58000007);
  t.same(e!.wscale, [NO_WSCALE, NO_WSCALE]);
});

t.test('xdpfw\'s TCP states are conntrack\'s numbers (enum tcp_conntrack)', async (t) => {
  t.equal(conntrackTcpState('none'), 0);
  t.equal(conntrackTcpState('syn-sent'), 1);
  t.equal(conntrackTcpState('established'), 3);
  t.equal(conntrackTcpState('time-wait'), 7);
  t.equal(conntrackTcpState('close'), 8);
  t.equal(tcpStateOfConntrack(9), undefined);
});

t.test('keepalived notify FIFO lines: instances srgN by state; other lines ignored', async (t) => {
  t.same(parseNotifyLine('INSTANCE "srg1" MASTER 200'), { group: 1, role: 'active' });
  t.same(parseNotifyLine('INSTANCE "srg12" BACKUP 100\n'), { group: 12, role: 'backup' });
  t.same(parseNotifyLine('INSTANCE "srg3" FAULT 0'), { group: 3, role: 'fault' });
  t.same(parseNotifyLine('INSTANCE "srg3" STOP 0'), { group: 3, role: 'stopped' });
  t.equal(parseNotifyLine('GROUP "g1" MASTER 0'), null);
  t.equal(parseNotifyLine('INSTANCE "other" MASTER 200'), null);
  t.equal(parseNotifyLine('INSTANCE "srg1" SOMETHING 200'), null);
});

t.test('conntrackd -s cache: the external cache\'s active objects', async (t) => {
  const text = 'cache:internal\tactive objects:\t\t           3\n\tactive/total entries:\t\t 3/ 3\n\n' +
    'cache:external\tactive objects:\t\t          42\n\tactive/total entries:\t\t 42/ 42\n';
  t.equal(externalCacheEntries(text), 42);
  t.equal(externalCacheEntries('nothing here'), null);
});
