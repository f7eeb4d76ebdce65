// `security forwarding-options pass-ethertype`: names and hex values, the
// EtherTypes that cannot be listed, errors with file:line:column, and the
// statement printed and read back.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';

function compiled(text: string) {
  const r = compileText(text, 'e.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errors(text: string): string[] {
  const r = compileText(text, 'e.conf');
  return r.ok ? [] : r.errors.map(String);
}

t.test('nothing listed: only ARP passes besides IP', async (t) => {
  t.same(compiled('').passEthertypes, []);
});

t.test('names and hex values, in either syntax, printed and read back', async (t) => {
  const c = compiled('security { forwarding-options { pass-ethertype [ lldp pppoe-discovery 0x88B5 lldp ]; } }');
  t.same(c.passEthertypes, [0x8863, 0x88b5, 0x88cc], 'sorted, each once');
  const set = compiled('set security forwarding-options pass-ethertype lldp\nset security forwarding-options pass-ethertype 0x88b5\nset security forwarding-options pass-ethertype pppoe-discovery');
  t.same(set.passEthertypes, c.passEthertypes, 'set lines');
  t.same(compiled(printSet(c.tree)).passEthertypes, c.passEthertypes, 'printed as set lines and read back');
  t.same(compiled(printHierarchical(c.tree)).passEthertypes, c.passEthertypes, 'printed hierarchically and read back');
  t.same(compiled('set security forwarding-options pass-ethertype mpls').passEthertypes, [0x8847]);
});

t.test('bad values are refused with file:line:column', async (t) => {
  t.same(errors('set security forwarding-options pass-ethertype lldpp'), [
    "e.conf:1:48: invalid EtherType 'lldpp': expected 0x0600 to 0xffff in hex (0x88cc) or one of pppoe-discovery, pppoe-session, mpls, mpls-multicast, lldp, lacp, eapol, macsec, ptp, rarp, ipx",
  ]);
  t.match(errors('set security forwarding-options pass-ethertype 0x05dc'), [/^e\.conf:1:48: invalid EtherType '0x05dc'/], 'a length, not a type');
  t.match(errors('set security forwarding-options pass-ethertype 0x8847f'), [/^e\.conf:1:48: invalid EtherType/], 'five digits');
  t.same(errors('security {\n  forwarding-options { pass-ethertype [ lldp 0x86dd ]; }\n}'), [
    "e.conf:2:46: EtherType '0x86dd' cannot be passed: IPv6 is judged by the firewall",
  ]);
  t.same(errors('set security forwarding-options pass-ethertype 0x0806'), ["e.conf:1:48: EtherType '0x0806' cannot be passed: ARP always passes"]);
  t.same(errors('set security forwarding-options pass-ethertype 0x8100'), ["e.conf:1:48: EtherType '0x8100' cannot be passed: VLAN tags are read through, not passed"]);
  t.match(errors('set security forwarding-options pass-anything lldp'), [/^e\.conf:1:33: unknown statement 'pass-anything'/]);
});
