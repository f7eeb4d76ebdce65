import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileText, loadConfigFile } from '../../lib/config/compile.js';
import { logicalInterfaceName } from '../../lib/config/interfaces.js';
import { parseInterfaceMap, type InterfaceMap } from '../../lib/interfaces/map-file.js';
import { unitDeviceName, unitInternalName } from '../../lib/interfaces/unit-devices.js';

const MAP = parseInterfaceMap('# lab box\nge-0/0/0 trust0\nge-0/0/1   untrust0  # uplink\nge-0/0/2 trunk0\nge-0/0/2.300 guests\n', 'box.map').map;

function compile(text: string, map: InterfaceMap | null = MAP) {
  return compileText(text, 'j.conf', { interfaceMap: map });
}

function errors(text: string, map: InterfaceMap | null = MAP): string[] {
  const r = compile(text, map);
  return r.ok ? [] : r.errors.map(String);
}

const JUNOS = `
interfaces {
    ge-0/0/0 { unit 0 { family inet { address 10.1.0.1/24; filter { input IN; } } } }
    ge-0/0/1 { unit 0 { family inet { address 10.2.0.1/24; } } }
    ge-0/0/2 {
        vlan-tagging;
        unit 100 { vlan-id 100; family inet { address 10.100.0.1/24; filter { output OUT; } } }
        unit 200 { vlan-id 200; family inet { address 10.200.0.1/24; } }
    }
}
firewall { family inet {
    filter IN { term a { then accept; } }
    filter OUT { term a { then accept; } }
} }
security { zones {
    security-zone trust { interfaces { ge-0/0/0.0; } }
    security-zone untrust { interfaces { ge-0/0/1.0; } }
    security-zone v100 { interfaces { ge-0/0/2.100; } }
    security-zone v200 { interfaces { ge-0/0/2.200; } }
} }
`;

t.test('the interface map file', async (t) => {
  t.same([...MAP.entries].map(([j, e]) => [j, e.linux, e.line]), [
    ['ge-0/0/0', 'trust0', 2], ['ge-0/0/1', 'untrust0', 3], ['ge-0/0/2', 'trunk0', 4], ['ge-0/0/2.300', 'guests', 5],
  ]);
  const bad = parseInterfaceMap('ge-0/0/0 eth0\nge-0/0/1\nge-0/0/2 eth0/1\n  ge-0/0/0 eth9\nx{ eth1\n', 'm');
  t.same(bad.errors.map(String), [
    "m:2:1: expected '<junos-interface> <linux-interface>', found 1 word",
    "m:3:10: 'eth0/1' is not a Linux interface name (1-15 letters, digits, '-', '_' or '.')",
    "m:4:3: 'ge-0/0/0' is mapped twice (first on line 1)",
    "m:5:1: 'x{' is not an interface name (such as ge-0/0/0 or ge-0/0/0.100)",
  ]);
});

t.test('unit device names: <trunk>.<vlan> within 15 characters, internal ends unique per trunk and VLAN', async (t) => {
  t.equal(unitDeviceName('trunk0', 100), 'trunk0.100');
  t.equal(unitDeviceName('enp129s0f1np1', 4094), 'enp129s0f1.4094', 'shortened to IFNAMSIZ');
  t.ok(unitInternalName('trunk0', 4094).length <= 15);
  t.not(unitInternalName('trunk0', 100), unitInternalName('trunk1', 100));
  t.not(unitInternalName('trunk0', 100), unitInternalName('trunk0', 200));
  t.match(unitInternalName('trunk0', 100), /^xv[0-9a-f]{6}\.100$/);
});

t.test('logical names: unit 0 is the interface, a trunk unit is its own', async (t) => {
  const trunks = new Map([['ge-0/0/2', { units: new Map([[100, 100]]) }]]);
  t.equal(logicalInterfaceName('ge-0/0/0.0', trunks), 'ge-0/0/0');
  t.equal(logicalInterfaceName('ge-0/0/0', trunks), 'ge-0/0/0');
  t.equal(logicalInterfaceName('ge-0/0/2.100', trunks), 'ge-0/0/2.100');
  t.equal(logicalInterfaceName('eth1.100', trunks), 'eth1.100', 'a Linux VLAN device name stays one');
});

t.test('a Junos config with a map compiles to the Linux interfaces', async (t) => {
  const r = compile(JUNOS);
  if (!r.ok) { t.fail(r.errors.join('\n')); return; }
  const c = r.config;
  t.same(c.interfaces, ['trust0', 'untrust0', 'trunk0.100', 'trunk0.200', 'trunk0'], 'zone members, then the trunk');
  t.same([...c.zoneByInterface].map(([i, z]) => [i, z.name]), [['trust0', 'trust'], ['untrust0', 'untrust'], ['trunk0.100', 'v100'], ['trunk0.200', 'v200']]);
  t.same(c.zones.map((z) => z.interfaces), [['trust0'], ['untrust0'], ['trunk0.100'], ['trunk0.200']]);
  t.same(c.trunks, [{
    device: 'trunk0', name: 'ge-0/0/2',
    units: [
      { vlanId: 100, device: 'trunk0.100', name: 'ge-0/0/2.100', internal: unitInternalName('trunk0', 100), addresses: ['10.100.0.1/24'] },
      { vlanId: 200, device: 'trunk0.200', name: 'ge-0/0/2.200', internal: unitInternalName('trunk0', 200), addresses: ['10.200.0.1/24'] },
    ],
  }]);
  t.same([...c.firewall.interfaces.keys()], ['trust0', 'trunk0.100'], "unit filters follow their unit's Linux interface");
  t.same(c.interfacePositions.get('trunk0.100'), { file: 'j.conf', line: 18, column: 39 });
  t.same(c.interfacePositions.get('trunk0'), { file: 'j.conf', line: 18, column: 39 }, 'a trunk: where its first unit is put in a zone');
});

t.test('set form: the same result', async (t) => {
  const set = [
    'set interfaces ge-0/0/2 vlan-tagging',
    'set interfaces ge-0/0/2 unit 100 vlan-id 100',
    'set interfaces ge-0/0/2 unit 200 vlan-id 200',
    'set security zones security-zone a interfaces ge-0/0/2.100',
    'set security zones security-zone b interfaces ge-0/0/2.200',
    'set security zones security-zone c interfaces ge-0/0/0',
  ].join('\n');
  const r = compile(set);
  if (!r.ok) { t.fail(r.errors.join('\n')); return; }
  t.same(r.config.interfaces, ['trunk0.100', 'trunk0.200', 'trust0', 'trunk0']);
});

t.test('a unit mapped on its own: its device gets the name the map gives', async (t) => {
  const r = compile('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 300 vlan-id 300\nset security zones security-zone g interfaces ge-0/0/2.300');
  if (!r.ok) { t.fail(r.errors.join('\n')); return; }
  t.same(r.config.trunks[0]?.units, [{ vlanId: 300, device: 'guests', name: 'ge-0/0/2.300', internal: unitInternalName('trunk0', 300), addresses: [] }]);
});

t.test('Linux names keep working without a map', async (t) => {
  const r = compileText('set interfaces trunk0 vlan-tagging\nset interfaces trunk0 unit 7 vlan-id 100\n' +
    'set security zones security-zone a interfaces trunk0.7\nset security zones security-zone b interfaces eth0.0\n' +
    'set security zones security-zone c interfaces eth1.55', 'l.conf');
  if (!r.ok) { t.fail(r.errors.join('\n')); return; }
  t.same(r.config.interfaces, ['trunk0.100', 'eth0', 'eth1.55', 'trunk0'], 'unit 7 is VLAN 100; eth0.0 is eth0; eth1.55 a Linux name');
});

t.test('errors at the statement that needs the interface', async (t) => {
  t.same(errors('set security zones security-zone z interfaces xe-1/0/0.0'),
    ["j.conf:1:47: interface 'xe-1/0/0.0' is not mapped to a Linux interface: add a line 'xe-1/0/0 <linux-interface>' to the interface map box.map"]);
  t.same(errors('set security zones security-zone z interfaces\nset security zones security-zone z interfaces ge-0/0/9.0', null),
    ["j.conf:2:47: interface 'ge-0/0/9.0' is not mapped to a Linux interface: map it with --interface-map FILE (a line 'ge-0/0/9 <linux-interface>')"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5 vlan-id 5\nset interfaces ge-0/0/2 unit 5 family inet address 10.5.0.300/24\n' +
    'set interfaces ge-0/0/2 unit 5 family inet6 address 10.5.0.1/24'), [
    "j.conf:3:52: invalid inet interface address '10.5.0.300/24': expected an IPv4 address and a prefix length (10.0.0.1/24)",
    "j.conf:4:53: invalid inet6 interface address '10.5.0.1/24': expected an IPv6 address and a prefix length (fd00::1/64)",
  ]);
  t.same(errors('set interfaces ge-0/0/7 vlan-tagging\nset interfaces ge-0/0/7 unit 5 vlan-id 5\nset security zones security-zone z interfaces ge-0/0/7.5'),
    ["j.conf:3:47: trunk 'ge-0/0/7' of interface 'ge-0/0/7.5' is not mapped to a Linux interface: add a line 'ge-0/0/7 <linux-interface>' to the interface map box.map"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5'), ["j.conf:2:30: unit 5 of trunk 'ge-0/0/2' (vlan-tagging) needs a 'vlan-id'"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5 vlan-id 9\nset interfaces ge-0/0/2 unit 6 vlan-id 9'),
    ["j.conf:3:40: VLAN 9 is already unit 5 of 'ge-0/0/2'; a VLAN belongs to one unit"]);
  t.same(errors('set interfaces ge-0/0/2 unit 0 vlan-id 9'), ["j.conf:1:32: 'vlan-id' needs 'vlan-tagging' on interface 'ge-0/0/2'"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5 vlan-id 4095'), ["j.conf:2:40: invalid VLAN id '4095': expected a number from 1 to 4094"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5 vlan-id 100\nset security zones security-zone z interfaces ge-0/0/2'),
    ["j.conf:3:47: 'ge-0/0/2' is a trunk (vlan-tagging): put its units ('ge-0/0/2.<unit>') in zones, not the trunk itself"]);
  t.same(errors('set interfaces ge-0/0/2 vlan-tagging\nset interfaces ge-0/0/2 unit 5 vlan-id 100\nset security zones security-zone z interfaces ge-0/0/2.6'),
    ["j.conf:3:47: trunk 'ge-0/0/2' has no unit 6 with a 'vlan-id': define it under 'interfaces ge-0/0/2'"]);
  t.same(errors('set security zones security-zone a interfaces ge-0/0/0.0\nset security zones security-zone b interfaces trust0'),
    ["j.conf:2:47: interface 'trust0' is Linux interface trust0, which 'ge-0/0/0.0' already is; one Linux interface is one zone member"]);
  t.same(errors('set security zones security-zone a interfaces ge-0/0/0.0\nset security zones security-zone b interfaces ge-0/0/0'),
    ["j.conf:2:47: interface 'ge-0/0/0' is already in zone 'a' (line 1, column 47); an interface belongs to one zone"]);
});

t.test('loadConfigFile with a map file: map errors are the map file\'s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-ifmap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'j.conf');
  writeFileSync(conf, 'set security zones security-zone a interfaces ge-0/0/0.0\n');
  const good = join(dir, 'good.map');
  writeFileSync(good, 'ge-0/0/0 eth0\n');
  const r = loadConfigFile(conf, {}, good);
  t.same(r.ok ? r.config.interfaces : r.errors.map(String), ['eth0']);
  const bad = join(dir, 'bad.map');
  writeFileSync(bad, 'ge-0/0/0\n');
  const b = loadConfigFile(conf, {}, bad);
  t.same(b.ok ? [] : b.errors.map(String), [`${bad}:1:1: expected '<junos-interface> <linux-interface>', found 1 word`]);
  const missing = loadConfigFile(conf, {}, join(dir, 'none.map'));
  t.match(missing.ok ? '' : missing.errors.map(String).join(), /none\.map:1:1: cannot read interface map: /);
});
