import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import { PolicyEngine, type PolicyQuery } from '../../lib/policy/engine.js';

const ZONES = `
set security zones security-zone trust interfaces t0
set security zones security-zone untrust interfaces u0
`;

function engine(policies: string): PolicyEngine {
  const r = compileText(ZONES + policies, 'hits.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return new PolicyEngine(r.config);
}

function rule(name: string, app: string, action: string, where = 'from-zone trust to-zone untrust'): string {
  return `set security policies ${where} policy ${name} match source-address any destination-address any application ${app}
set security policies ${where} policy ${name} then ${action}\n`;
}

function query(destinationPort: number, protocol = 6): PolicyQuery {
  return {
    fromZone: 'trust',
    toZone: 'untrust',
    family: 'inet',
    protocol,
    source: Uint8Array.of(192, 0, 2, 1),
    destination: Uint8Array.of(198, 51, 100, 1),
    sourcePort: 40000,
    destinationPort,
  };
}

const RULES = rule('ssh', 'junos-ssh', 'deny') + rule('web', 'junos-http', 'permit') + rule('dns', 'junos-dns-udp', 'permit', 'global');

t.test('every match counts a hit for the deciding policy, with or without the count flag', async (t) => {
  const e = engine(RULES.replace('then deny', 'then deny\nset security policies from-zone trust to-zone untrust policy ssh then count'));
  for (let i = 0; i < 3; i++) e.match(query(80));
  e.match(query(22));
  e.match(query(53, 17));
  e.match(query(9999));
  e.match(query(9999));
  t.equal(e.hits(0x10001), 1, 'ssh (count flag)');
  t.equal(e.hits(0x10002), 3, 'web');
  t.equal(e.hits(0xffff0001), 1, 'global dns');
  t.equal(e.hits(0), 2, 'default policy');
  t.equal(e.hits(0x10009), 0, 'unknown id');
  t.same([...e.hitCounts()], [[0x10001, 1], [0x10002, 3], [0xffff0001, 1], [0, 2]], 'config order, default policy last');
});

t.test('lookup decides without counting', async (t) => {
  const e = engine(RULES);
  t.equal(e.lookup(query(80)).policyName, 'web');
  t.equal(e.lookup(query(9999)).policyName, 'default-policy');
  t.same([...e.hitCounts().values()], [0, 0, 0, 0]);
});

t.test('a reload keeps the counts of policies it kept', async (t) => {
  const old = engine(RULES);
  old.match(query(22));
  old.match(query(80));
  old.match(query(80));
  old.match(query(9999));
  const next = engine(rule('ssh', 'junos-ssh', 'permit') + rule('http', 'junos-http', 'permit') + rule('dns', 'junos-dns-udp', 'permit', 'global'));
  next.carryHitsFrom(old);
  t.equal(next.hits(0x10001), 1, 'same id and name: kept even though the action changed');
  t.equal(next.hits(0x10002), 0, 'renamed: a new policy starts at 0');
  t.equal(next.hits(0), 1, 'default policy');
  next.match(query(22));
  t.equal(next.hits(0x10001), 2, 'and keeps counting');
});
