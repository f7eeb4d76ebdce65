// `security screen ids-option` and a zone's `screen`: compiled tables,
// Junos defaults and ranges, errors with file:line:column; and the profile as
// the XDP program reads it (struct xdpfw_screen_profile, BTF ids).
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';
import { MAX_SCREENED_ZONE_ID } from '../../lib/config/screens.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { SCREEN_PROFILE } from '../../lib/dataplane/layout.js';
import { btfEnum } from '../../lib/dataplane/native.js';
import { enabledScreens, encodeProfile } from '../../lib/screens/profile.js';
import { SCREEN_KEYS, screenConstants } from '../../lib/screens/screen-ids.js';
import { bpfObjectPath } from '../../lib/util/paths.js';

const OBJECT = bpfObjectPath('xdpfw');

function compiled(text: string): CompiledConfig {
  const r = compileText(text, 's.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errors(text: string): string[] {
  const r = compileText(text, 's.conf');
  return r.ok ? [] : r.errors.map(String);
}

const FULL = `security {
    zones {
        security-zone untrust { interfaces { eth0; } screen wall; }
        security-zone trust { interfaces { eth1; } }
    }
    screen {
        white-list trusted { address [ 203.0.113.0/24 198.51.100.9 ]; }
        ids-option wall {
            alarm-without-drop;
            icmp { flood { threshold 300; } fragment; ip-sweep { threshold 2000; } ping-death; large; icmpv6-malformed; }
            ip { source-route-option; loose-source-route-option; strict-source-route-option; record-route-option;
                 timestamp-option; security-option; stream-option; tear-drop; spoofing; bad-option; block-frag; unknown-protocol;
                 ipv6-extension-header { hop-by-hop-header; routing-header; AH-header; shim6-header;
                                         destination-header { home-address-option; user-defined-option-type 30 to 31; }
                                         user-defined-header-type 253 to 254; }
                 ipv6-extension-header-limit 3; ipv6-malformed-header;
                 tunnel { bad-inner-header; gre { gre-4in4; gre-4in6; gre-6in4; gre-6in6; }
                          ipip { ipip-4in4; ipip-4in6; ipip-6in4; ipip-6in6; ipip-6over4; ipip-6to4relay; isatap; dslite; }
                          ip-in-udp { teredo; } } }
            tcp { land; syn-fin; tcp-no-flag; fin-no-ack; winnuke; syn-frag;
                  syn-flood { attack-threshold 100; alarm-threshold 50; source-threshold 400; destination-threshold 800; timeout 10;
                              white-list office { source-address [ 192.0.2.0/24 2001:db8::/32 ]; destination-address 198.51.100.7; } }
                  port-scan { threshold 3000; } tcp-sweep { threshold 4000; } syn-ack-ack-proxy { threshold 250000; } }
            udp { flood { threshold 600; white-list trusted; } port-scan { threshold 6000; } udp-sweep { threshold 7000; } }
            limit-session { source-ip-based 20; destination-ip-based 30; }
        }
    }
}`;

const SET = `set security zones security-zone untrust interfaces eth0
set security zones security-zone untrust screen wall
set security zones security-zone trust interfaces eth1
set security screen white-list trusted address 203.0.113.0/24
set security screen white-list trusted address 198.51.100.9
set security screen ids-option wall alarm-without-drop
set security screen ids-option wall icmp flood threshold 300
set security screen ids-option wall icmp fragment
set security screen ids-option wall icmp ip-sweep threshold 2000
set security screen ids-option wall icmp ping-death
set security screen ids-option wall icmp large
set security screen ids-option wall icmp icmpv6-malformed
set security screen ids-option wall ip source-route-option
set security screen ids-option wall ip loose-source-route-option
set security screen ids-option wall ip strict-source-route-option
set security screen ids-option wall ip record-route-option
set security screen ids-option wall ip timestamp-option
set security screen ids-option wall ip security-option
set security screen ids-option wall ip stream-option
set security screen ids-option wall ip tear-drop
set security screen ids-option wall ip spoofing
set security screen ids-option wall ip bad-option
set security screen ids-option wall ip block-frag
set security screen ids-option wall ip unknown-protocol
set security screen ids-option wall ip ipv6-extension-header hop-by-hop-header
set security screen ids-option wall ip ipv6-extension-header routing-header
set security screen ids-option wall ip ipv6-extension-header AH-header
set security screen ids-option wall ip ipv6-extension-header shim6-header
set security screen ids-option wall ip ipv6-extension-header destination-header home-address-option
set security screen ids-option wall ip ipv6-extension-header destination-header user-defined-option-type 30 to 31
set security screen ids-option wall ip ipv6-extension-header user-defined-header-type 253 to 254
set security screen ids-option wall ip ipv6-extension-header-limit 3
set security screen ids-option wall ip ipv6-malformed-header
set security screen ids-option wall ip tunnel bad-inner-header
set security screen ids-option wall ip tunnel gre gre-4in4
set security screen ids-option wall ip tunnel gre gre-4in6
set security screen ids-option wall ip tunnel gre gre-6in4
set security screen ids-option wall ip tunnel gre gre-6in6
set security screen ids-option wall ip tunnel ipip ipip-4in4
set security screen ids-option wall ip tunnel ipip ipip-4in6
set security screen ids-option wall ip tunnel ipip ipip-6in4
set security screen ids-option wall ip tunnel ipip ipip-6in6
set security screen ids-option wall ip tunnel ipip ipip-6over4
set security screen ids-option wall ip tunnel ipip ipip-6to4relay
set security screen ids-option wall ip tunnel ipip isatap
set security screen ids-option wall ip tunnel ipip dslite
set security screen ids-option wall ip tunnel ip-in-udp teredo
set security screen ids-option wall tcp land
set security screen ids-option wall tcp syn-fin
set security screen ids-option wall tcp tcp-no-flag
set security screen ids-option wall tcp fin-no-ack
set security screen ids-option wall tcp winnuke
set security screen ids-option wall tcp syn-frag
set security screen ids-option wall tcp syn-flood attack-threshold 100
set security screen ids-option wall tcp syn-flood alarm-threshold 50
set security screen ids-option wall tcp syn-flood source-threshold 400
set security screen ids-option wall tcp syn-flood destination-threshold 800
set security screen ids-option wall tcp syn-flood timeout 10
set security screen ids-option wall tcp syn-flood white-list office source-address 192.0.2.0/24
set security screen ids-option wall tcp syn-flood white-list office source-address 2001:db8::/32
set security screen ids-option wall tcp syn-flood white-list office destination-address 198.51.100.7
set security screen ids-option wall tcp port-scan threshold 3000
set security screen ids-option wall tcp tcp-sweep threshold 4000
set security screen ids-option wall tcp syn-ack-ack-proxy threshold 250000
set security screen ids-option wall udp flood threshold 600
set security screen ids-option wall udp flood white-list trusted
set security screen ids-option wall udp port-scan threshold 6000
set security screen ids-option wall udp udp-sweep threshold 7000
set security screen ids-option wall limit-session source-ip-based 20
set security screen ids-option wall limit-session destination-ip-based 30
`;

t.test('a full profile compiles to its table, in either syntax', async (t) => {
  const c = compiled(FULL);
  t.same(c.screens.get('wall'), {
    name: 'wall',
    alarmWithoutDrop: true,
    icmp: { flood: 300, fragment: true, ipSweep: 2000, pingDeath: true, large: true, icmpv6Malformed: true },
    ip: {
      sourceRoute: true, looseSourceRoute: true, strictSourceRoute: true, recordRoute: true, timestamp: true, security: true, stream: true, tearDrop: true, spoofing: true,
      badOption: true, blockFrag: true, unknownProtocol: true,
      ipv6ExtensionHeaders: ['hop-by-hop-header', 'routing-header', 'AH-header', 'shim6-header'],
      ipv6ExtensionHeaderLimit: 3,
      ipv6MalformedHeader: true,
      ipv6Options: { hopByHop: [], destination: [0xc9, 30, 31], headerTypes: [253, 254] },
      tunnel: [
        'tunnel-bad-inner-header', 'tunnel-gre-4in4', 'tunnel-gre-4in6', 'tunnel-gre-6in4', 'tunnel-gre-6in6',
        'tunnel-ipip-4in4', 'tunnel-ipip-4in6', 'tunnel-ipip-6in4', 'tunnel-ipip-6in6', 'tunnel-ipip-6over4', 'tunnel-ipip-6to4relay',
        'tunnel-ipip-isatap', 'tunnel-ipip-dslite', 'tunnel-teredo',
      ],
    },
    tcp: {
      land: true, synFin: true, noFlag: true, finNoAck: true, winnuke: true, synFrag: true,
      synFlood: {
        attackThreshold: 100, alarmThreshold: 50, sourceThreshold: 400, destinationThreshold: 800, timeout: 10,
        whiteList: {
          source: [{ family: 'inet', words: [0xc0000200], length: 24 }, { family: 'inet6', words: [0x20010db8, 0, 0, 0], length: 32 }],
          destination: [{ family: 'inet', words: [0xc6336407], length: 32 }],
        },
      },
      portScan: 3000, sweep: 4000, synAckAckProxy: 250000,
    },
    udp: {
      flood: 600, portScan: 6000, sweep: 7000,
      floodWhiteList: [{ family: 'inet', words: [0xcb007100], length: 24 }, { family: 'inet', words: [0xc6336409], length: 32 }],
    },
    limitSession: { source: 20, destination: 30 },
  });
  t.same(c.zones.map((z) => [z.name, z.screen]), [['untrust', 'wall'], ['trust', null]]);
  t.same(compiled(SET).screens, c.screens, 'set lines give the same profile');
  t.same(compiled(printSet(c.tree)).screens, c.screens, 'printed as set lines and read back');
  t.same(compiled(printHierarchical(c.tree)).screens, c.screens, 'printed hierarchically and read back');
  t.same([...enabledScreens(c.screens.get('wall')!)].sort(), [...SCREEN_KEYS].sort(), 'every screen is on');
});

t.test('a bare flood, sweep, scan or syn-flood takes the Junos defaults', async (t) => {
  const p = compiled('security { screen { ids-option d { icmp { flood; ip-sweep; } tcp { syn-flood; port-scan; syn-ack-ack-proxy; } udp { flood; } } } }').screens.get('d')!;
  t.equal(p.tcp.synAckAckProxy, 512, 'syn-ack-ack-proxy: 512 connections');
  t.equal(p.icmp.flood, 1000);
  t.equal(p.icmp.ipSweep, 5000, 'microseconds');
  t.equal(p.udp.flood, 1000);
  t.equal(p.tcp.portScan, 5000, 'microseconds');
  t.same(p.tcp.synFlood, { attackThreshold: 200, alarmThreshold: 512, sourceThreshold: 4000, destinationThreshold: 4000, timeout: 20, whiteList: { source: [], destination: [] } });
  const empty = compiled('security { screen { ids-option e; } }').screens.get('e')!;
  t.same(enabledScreens(empty), [], 'an empty profile turns nothing on');
  t.equal(empty.tcp.synFlood, null);
  t.equal(empty.tcp.synAckAckProxy, null);
  t.same(empty.limitSession, { source: null, destination: null });
});

t.test('errors carry file:line:column', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['unknown profile', 'set security zones security-zone z screen nope', ["s.conf:1:43: unknown screen 'nope': define it with 'security screen ids-option nope'"]],
    [
      'inactive profile',
      'security { screen { inactive: ids-option p { tcp { land; } } } zones { security-zone z { screen p; } } }',
      ["s.conf:1:97: unknown screen 'p': define it with 'security screen ids-option p'"],
    ],
    ['zero threshold', 'set security screen ids-option p tcp syn-flood attack-threshold 0', ["s.conf:1:65: invalid syn-flood attack-threshold '0': expected a number from 1 to 1000000"]],
    ['source threshold below 4', 'set security screen ids-option p tcp syn-flood source-threshold 3', ["s.conf:1:65: invalid syn-flood source-threshold '3': expected a number from 4 to 1000000"]],
    ['timeout over 50', 'set security screen ids-option p tcp syn-flood timeout 51', ["s.conf:1:56: invalid syn-flood timeout '51': expected a number from 1 to 50"]],
    ['port scan window too short', 'set security screen ids-option p tcp port-scan threshold 999', ["s.conf:1:58: invalid port-scan threshold '999': expected a number from 1000 to 1000000"]],
    ['not a number', 'set security screen ids-option p udp flood threshold lots', ["s.conf:1:54: invalid UDP flood threshold 'lots': expected a number from 1 to 1000000"]],
    ['sweep window too short', 'set security screen ids-option p udp udp-sweep threshold 999', ["s.conf:1:58: invalid udp-sweep threshold '999': expected a number from 1000 to 1000000"]],
    [
      'extension header limit over 32',
      'set security screen ids-option p ip ipv6-extension-header-limit 33',
      ["s.conf:1:65: invalid ipv6-extension-header-limit '33': expected a number from 0 to 32"],
    ],
    [
      'a white-list entry that is not a prefix',
      'set security screen ids-option p tcp syn-flood white-list w source-address 10.0.0.1/33',
      ["s.conf:1:76: invalid prefix length in '10.0.0.1/33': must be 0-32 for IPv4"],
    ],
    [
      'a udp flood white-list not defined',
      'set security screen ids-option p udp flood white-list nope',
      ["s.conf:1:55: unknown white-list 'nope': define it with 'security screen white-list nope'"],
    ],
    [
      'a white-list of both families',
      'security { screen { white-list w { address [ 10.0.0.0/8 2001:db8::/32 ]; } } }',
      ['s.conf:1:57: white-list w: its addresses must be all IPv4 or all IPv6'],
    ],
    [
      'an option type outside 1-255',
      'set security screen ids-option p ip ipv6-extension-header hop-by-hop-header user-defined-option-type 0 to 3',
      ["s.conf:1:102: invalid user-defined-option-type '0': expected a number from 1 to 255"],
    ],
    [
      'an empty header type range',
      'set security screen ids-option p ip ipv6-extension-header user-defined-header-type 254 to 253',
      ['s.conf:1:91: user-defined-header-type: the range 254 to 253 is empty'],
    ],
    ['session limit', 'set security screen ids-option p limit-session source-ip-based 0', ["s.conf:1:64: invalid source-ip-based session limit '0': expected a number from 1 to 8000000"]],
    ['syn-ack-ack-proxy zero', 'set security screen ids-option p tcp syn-ack-ack-proxy threshold 0', ["s.conf:1:66: invalid syn-ack-ack-proxy threshold '0': expected a number from 1 to 250000"]],
    [
      'syn-ack-ack-proxy over 250000',
      'set security screen ids-option p tcp syn-ack-ack-proxy threshold 250001',
      ["s.conf:1:66: invalid syn-ack-ack-proxy threshold '250001': expected a number from 1 to 250000"],
    ],
    [
      'two blocks for one profile',
      'security { screen { ids-option p { tcp { land; } } ids-option p { udp { flood; } } } }',
      ["s.conf:1:52: duplicate screen 'p' (first defined at line 1, column 21)"],
    ],
  ];
  for (const [name, text, want] of cases) t.same(errors(text), want, name);
});

t.test('a screen on a zone past the profile table is refused', async (t) => {
  const zones = Array.from({ length: MAX_SCREENED_ZONE_ID + 1 }, (_, i) => `set security zones security-zone z${i + 1}`).join('\n');
  const last = `set security zones security-zone z${MAX_SCREENED_ZONE_ID + 1} screen p`;
  const text = `${zones}\nset security screen ids-option p tcp land\nset security zones security-zone z${MAX_SCREENED_ZONE_ID} screen p\n${last}`;
  t.same(errors(text), [`s.conf:${MAX_SCREENED_ZONE_ID + 4}:${last.length}: screens apply to the first ${MAX_SCREENED_ZONE_ID} security-zone statements; this zone is number ${MAX_SCREENED_ZONE_ID + 1}`]);
});

t.test('the profile as the XDP program reads it', async (t) => {
  const constants = btfEnum(OBJECT, 'xdpfw_constants');
  t.equal(MAX_SCREENED_ZONE_ID + 1, constants.XDPFW_MAX_ZONES, 'the config limit is the table size in C');
  const c = screenConstants(OBJECT);
  const screens = btfEnum(OBJECT, 'xdpfw_screen');
  t.equal(c.ids.get('land'), screens.XDPFW_SCREEN_LAND, 'ids come from BTF');
  t.ok([...c.ids.values()].every((id) => id < c.slots), 'every id fits the bitmask and the counter stride');
  const p = compiled(FULL).screens.get('wall')!;
  const out = Buffer.alloc(SCREEN_PROFILE.size + 8, 0xee);
  encodeProfile(p, c, out, 4);
  const O = SCREEN_PROFILE.offset;
  const word = (f: keyof typeof O) => out.readUInt32LE(4 + O[f]);
  const mask = out.readBigUInt64LE(4 + O.screens);
  t.not(mask & (1n << BigInt(c.ids.get('ip-spoofing')!)), 0n, 'ip spoofing is turned on');
  t.not(mask & (1n << BigInt(c.ids.get('tunnel-bad-inner-header')!)), 0n, 'a screen past bit 31 is turned on');
  t.equal(mask, enabledScreens(p).reduce((m, k) => m | (1n << BigInt(c.ids.get(k)!)), 0n), 'one bit per screen turned on');
  const flags = btfEnum(OBJECT, 'xdpfw_screen_flags');
  t.equal(word('flags'), flags.XDPFW_SCREEN_ALARM_WITHOUT_DROP! | flags.XDPFW_SCREEN_SYN_FLOOD_WHITE_LIST! | flags.XDPFW_SCREEN_UDP_FLOOD_WHITE_LIST! |
    flags.XDPFW_SCREEN_IPV6_OPTIONS!, 'alarm-without-drop, the syn-flood and udp flood white-lists to look up, IPv6 option types to walk');
  const typeSet = (f: 'ipv6_hbh_options' | 'ipv6_dst_options' | 'ipv6_header_types') => [0, 1, 2, 3].map((i) => out.readBigUInt64LE(4 + O[f] + 8 * i));
  t.same(typeSet('ipv6_hbh_options'), [0n, 0n, 0n, 0n], 'no hop-by-hop option types (the whole header is named)');
  t.same(typeSet('ipv6_dst_options'), [(1n << 30n) | (1n << 31n), 0n, 0n, 1n << BigInt(0xc9 - 192)], 'destination option types 30, 31 and home address (0xc9)');
  t.same(typeSet('ipv6_header_types'), [0n, 0n, 0n, (1n << 61n) | (1n << 62n)], 'header types 253 and 254');
  t.same(
    [word('syn_attack'), word('syn_alarm'), word('syn_source'), word('syn_destination'), word('icmp_flood'), word('udp_flood'), word('port_scan_us'), word('ip_sweep_us')],
    [100, 50, 400, 800, 300, 600, 3000, 2000],
  );
  t.same([word('tcp_sweep_us'), word('udp_port_scan_us'), word('udp_sweep_us'), word('ipv6_ext_limit')], [4000, 6000, 7000, 3]);
  t.equal(word('syn_ack_ack_proxy'), 250000, 'the syn-ack-ack-proxy threshold');
  const ext = btfEnum(OBJECT, 'xdpfw_ipv6_ext');
  t.equal(
    word('ipv6_ext_headers'),
    ext.XDPFW_IPV6_EXT_HOP_BY_HOP! | ext.XDPFW_IPV6_EXT_ROUTING! | ext.XDPFW_IPV6_EXT_AH! | ext.XDPFW_IPV6_EXT_SHIM6!,
    'the extension header types named, as enum xdpfw_ipv6_ext bits',
  );
  t.equal(out.readUInt32LE(0), 0xeeeeeeee, 'nothing written before the offset');
  t.equal(out.readUInt32LE(4 + SCREEN_PROFILE.size), 0xeeeeeeee, 'nor after the struct');
});
