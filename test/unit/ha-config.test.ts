// high-availability: what validates to which pair, each error at its file:line:column, and
// the keepalived and conntrackd files generated from it.
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { conntrackdConf } from '../../lib/ha/conntrackd.js';
import { keepalivedConf } from '../../lib/ha/keepalived.js';
import type { HaConfig } from '../../lib/ha/types.js';

const BASE = [
  'set interfaces trust0 unit 0 family inet',
  'set interfaces untrust0 unit 0 family inet',
  'set security zones security-zone trust interfaces trust0',
  'set security zones security-zone untrust interfaces untrust0',
];
/** The high-availability lines start at this line. */
const LINE0 = BASE.length + 1;

const PAIR = [
  'set high-availability local-id 1 local-ip 10.254.0.1',
  'set high-availability peer-id 2 peer-ip 10.254.0.2',
  'set high-availability peer-id 2 interface sync0',
  'set high-availability peer-id 2 liveness-detection minimum-interval 50',
  'set high-availability services-redundancy-group 1 peer-id 2',
  'set high-availability services-redundancy-group 1 virtual-ip 1 ip 10.1.0.1/24',
  'set high-availability services-redundancy-group 1 virtual-ip 1 interface trust0',
  'set high-availability services-redundancy-group 1 virtual-ip 2 ip fd00:1::1/64',
  'set high-availability services-redundancy-group 1 virtual-ip 2 interface trust0',
  'set high-availability services-redundancy-group 1 virtual-ip 3 ip 10.2.0.1/24',
  'set high-availability services-redundancy-group 1 virtual-ip 3 interface untrust0',
  'set high-availability services-redundancy-group 1 activeness-priority 200',
  'set high-availability services-redundancy-group 1 preemption',
];

function ha(lines: string[]): { ha: HaConfig | null; errors: string[] } {
  const r = compileText([...BASE, ...lines].join('\n'), 'h.conf', { requireInterfaces: false });
  return r.ok ? { ha: r.ha ?? null, errors: [] } : { ha: null, errors: r.errors.map(String) };
}

const HOOKS = { xdpfw: '/opt/xdpfw/bin/xdpfw', stateDir: '/run/xdpfw' };

t.test('a pair validates to its ids, peer link and groups', async (t) => {
  const r = ha(PAIR);
  t.same(r.errors, []);
  t.same(r.ha, {
    localId: 1,
    localIp: { family: 'inet', text: '10.254.0.1' },
    peer: { id: 2, ip: { family: 'inet', text: '10.254.0.2' }, interface: 'sync0', advertMs: 50 },
    groups: [{
      id: 1, priority: 200, preemption: true, virtualIps: [
        { id: 1, family: 'inet', prefix: '10.1.0.1/24', interface: 'trust0' },
        { id: 2, family: 'inet6', prefix: 'fd00:1::1/64', interface: 'trust0' },
        { id: 3, family: 'inet', prefix: '10.2.0.1/24', interface: 'untrust0' },
      ],
    }],
  });
  t.equal(ha([]).ha, null, 'a single box has no pair');
});

t.test('the hierarchical form is the same pair, the advert interval 100 ms when not given', async (t) => {
  const text = [...BASE, `high-availability {
    local-id 1 { local-ip 10.254.0.1; }
    peer-id 2 { peer-ip 10.254.0.2; interface sync0; }
    services-redundancy-group 7 {
        virtual-ip 1 { ip 10.1.0.1/24; interface trust0; }
        activeness-priority 10;
    }
}`].join('\n');
  const r = compileText(text, 'h.conf', { requireInterfaces: false });
  t.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  if (!r.ok || !r.ha) return;
  t.equal(r.ha.peer.advertMs, 100);
  t.same(r.ha.groups.map((g) => [g.id, g.priority, g.preemption]), [[7, 10, false]]);
});

t.test('each mistake is refused at its file:line:column', async (t) => {
  const at = (i: number, col: number, msg: string) => `h.conf:${LINE0 + i}:${col}: ${msg}`;
  const cases: Array<[string, string[], string]> = [
    ['the peer has the local id', [...PAIR.slice(0, 1), 'set high-availability peer-id 1 peer-ip 10.254.0.2', 'set high-availability peer-id 1 interface sync0', ...PAIR.slice(4).filter((l) => !l.includes(' 1 peer-id 2'))],
      at(1, 31, 'peer-id 1 is the local id: the two boxes need different ids')],
    ['families differ on the peer link', [PAIR[0]!, 'set high-availability peer-id 2 peer-ip fd00::2', ...PAIR.slice(2)],
      at(1, 41, 'peer-ip fd00::2 and local-ip 10.254.0.1 are of different families: the peer link needs one')],
    ['an advert interval VRRP cannot send', [...PAIR.slice(0, 3), 'set high-availability peer-id 2 liveness-detection minimum-interval 105', ...PAIR.slice(4)],
      at(3, 69, 'minimum-interval 105 is not a multiple of 10 ms: VRRP adverts are timed in centiseconds')],
    ['a virtual IP without its prefix length', [...PAIR.slice(0, 5), 'set high-availability services-redundancy-group 1 virtual-ip 1 ip 10.1.0.1', ...PAIR.slice(6)],
      at(5, 67, "invalid virtual IP '10.1.0.1': expected an address with its prefix length (10.1.0.1/24, fd00:1::1/64)")],
    ['a virtual IP twice', [...PAIR.slice(0, 9), 'set high-availability services-redundancy-group 1 virtual-ip 3 ip 10.1.0.1/16', ...PAIR.slice(10)],
      at(9, 67, `virtual IP 10.1.0.1/16 is already used at ${LINE0 + 5}:67`)],
    ['a group naming another peer', [...PAIR.slice(0, 4), 'set high-availability services-redundancy-group 1 peer-id 3', ...PAIR.slice(5)],
      at(4, 59, 'services-redundancy-group 1: peer-id 3 is not the configured peer (peer-id 2)')],
    ['a group without a priority', PAIR.filter((l) => !l.includes('activeness-priority')),
      at(4, 23, "services-redundancy-group 1 needs 'activeness-priority' (1-254; the box with the higher one is active)")],
    ['a priority VRRP does not have', PAIR.map((l) => l.replace('activeness-priority 200', 'activeness-priority 255')),
      at(11, 71, "invalid activeness-priority '255': expected a number from 1 to 254")],
    ['a virtual IP on an interface in no zone', PAIR.map((l) => l.replace('virtual-ip 3 interface untrust0', 'virtual-ip 3 interface dmz0')),
      at(10, 74, "services-redundancy-group 1 virtual-ip 3: interface 'dmz0' is in no security zone: a virtual IP is the gateway of a zone's segment")],
    ['no peer', PAIR.filter((l) => !l.includes('peer-id 2 ') || l.includes('redundancy')).filter((l) => !l.includes(' 1 peer-id')),
      at(0, 5, "high-availability needs exactly one 'peer-id' (the other box of the pair); found 0")],
  ];
  for (const [name, lines, want] of cases) {
    const r = ha(lines);
    t.equal(r.ha, null, `${name}: no pair`);
    t.ok(r.errors.includes(want), `${name}: ${want}\n  got: ${r.errors.join('\n  ')}`);
  }
  const unknown = ha([...PAIR, 'set high-availability services-redundancy-group 1 monitor interface trust0']);
  t.match(unknown.errors.join('\n'), /high-availability services-redundancy-group 1 monitor not supported/, 'what is not implemented is refused, not ignored');
});

t.test('keepalived.conf: one VRRP v3 instance per group, unicast on the peer link, notify hooks for each role', async (t) => {
  const pair = ha(PAIR).ha!;
  const text = keepalivedConf(pair, HOOKS, 'h.conf');
  t.match(text, /vrrp_version 3/);
  const inst = text.slice(text.indexOf('vrrp_instance srg1 {'));
  t.match(inst, /interface sync0\n/);
  t.match(inst, /virtual_router_id 1\n/);
  t.match(inst, /priority 200\n/);
  t.match(inst, /advert_int 0\.05\n/);
  t.notMatch(inst, /nopreempt/, 'preemption: keepalived preempts');
  t.match(inst, /unicast_src_ip 10\.254\.0\.1\n\s+unicast_peer \{\n\s+10\.254\.0\.2\n/);
  t.match(inst, /track_interface \{\n\s+trust0\n\s+untrust0\n/);
  t.match(inst, /virtual_ipaddress \{\n\s+10\.1\.0\.1\/24 dev trust0\n\s+10\.2\.0\.1\/24 dev untrust0\n\s+\}/, 'VRRP announces the addresses of its family');
  t.match(inst, /virtual_ipaddress_excluded \{\n\s+fd00:1::1\/64 dev trust0\n/, 'the others move with it');
  for (const [hook, role] of [['notify_master', 'active'], ['notify_backup', 'backup'], ['notify_fault', 'fault'], ['notify_stop', 'stopped']]) {
    t.match(inst, `${hook} "/opt/xdpfw/bin/xdpfw ha role ${role} --group 1 --state-dir /run/xdpfw"`);
  }
  t.match(text, /global_defs \{[^}]*notify_fifo \/run\/xdpfw\/keepalived\.fifo\n/, 'each transition to the daemon through the FIFO in its state directory');
  const noPreempt = keepalivedConf({ ...pair, groups: pair.groups.map((g) => ({ ...g, preemption: false })) }, HOOKS, 'h.conf');
  t.match(noPreempt, /\n\s+nopreempt\n/);
});

t.test('conntrackd.conf: FTFW over UDP between the two link addresses', async (t) => {
  const text = conntrackdConf(ha(PAIR).ha!, { lockFile: '/tmp/x.lock', socket: '/tmp/x.ctl', logFile: '/tmp/x.log' }, 'h.conf');
  t.match(text, /Mode FTFW \{/);
  t.match(text, /IPv4_address 10\.254\.0\.1\n\s+IPv4_Destination_Address 10\.254\.0\.2\n\s+Port 3780\n\s+Interface sync0\n/);
  t.match(text, /LockFile \/tmp\/x\.lock\n/);
  t.match(text, /Path \/tmp\/x\.ctl\n/);
});
