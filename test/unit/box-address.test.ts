// The box's address an ICMP error it sends goes out from: on the interface, in the family, on
// the destination's prefix first, then global before link-local; re-read after a miss.
import type { NetworkInterfaceInfo } from 'node:os';
import t from 'tap';
import { BoxAddresses } from '../../lib/slowpath/box-address.js';
import { ipBytes } from '../helpers/packets.js';

function info(address: string, cidr: string, internal = false): NetworkInterfaceInfo {
  const v6 = address.includes(':');
  return { address, cidr, internal, netmask: '', mac: '00:00:00:00:00:00', family: v6 ? 'IPv6' : 'IPv4', scopeid: v6 ? 0 : undefined } as NetworkInterfaceInfo;
}

const names = new Map([[3, 'trust0'], [4, 'untrust0']]);
let table: Record<string, NetworkInterfaceInfo[]> = {
  trust0: [info('10.1.0.1', '10.1.0.1/24'), info('192.0.2.1', '192.0.2.1/28'), info('fe80::1', 'fe80::1/64'), info('fd00:1::1', 'fd00:1::1/64')],
  untrust0: [info('fe80::2', 'fe80::2/64')],
  lo: [info('127.0.0.1', '127.0.0.1/8', true)],
};
let now = 0;
let reads = 0;
const box = new BoxAddresses(() => now, () => { reads++; return table; }, (i) => {
  const n = names.get(i);
  if (!n) throw new Error('no such interface');
  return n;
});

t.same(box.source(3, ipBytes('192.0.2.9')), ipBytes('192.0.2.1'), 'the address whose prefix holds the destination');
t.same(box.source(3, ipBytes('198.51.100.7')), ipBytes('10.1.0.1'), 'else the first of the family');
t.same(box.source(3, ipBytes('fd00:1::2')), ipBytes('fd00:1::1'), 'IPv6 on the prefix');
t.same(box.source(3, ipBytes('2001:db8::1')), ipBytes('fd00:1::1'), 'a global address before a link-local one');
t.same(box.source(4, ipBytes('2001:db8::1')), ipBytes('fe80::2'), 'link-local when that is all there is');
t.equal(box.source(4, ipBytes('10.2.0.2')), null, 'none of the family: null (the caller falls back)');
t.equal(box.source(9, ipBytes('10.2.0.2')), null, 'an interface that is gone: null');
const before = reads;
box.source(4, ipBytes('10.2.0.2'));
t.equal(reads, before, 'a miss within a second does not read the kernel again');
table = { ...table, untrust0: [info('10.2.0.1', '10.2.0.1/24')] };
now += 1000;
t.same(box.source(4, ipBytes('10.2.0.2')), ipBytes('10.2.0.1'), 'a second later a miss reads again and finds a new address');
