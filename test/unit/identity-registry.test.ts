// Identities that survive configuration changes: ids by name (and zone pair), never reused
// while carried, kept in a file across daemon restarts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compileText } from '../../lib/config/compile.js';
import type { CompiledConfig } from '../../lib/config/types.js';
import { configNameResolver } from '../../lib/events/resolver.js';
import { type Carried, IdentityRegistry } from '../../lib/identity/registry.js';

const policy = (name: string, app = 'any') =>
  `policy ${name} { match { source-address any; destination-address any; application ${app}; } then { permit; } }`;
const filter = (name: string, ...terms: string[]) =>
  `filter ${name} { ${terms.map((x) => `term ${x} { then accept; }`).join(' ')} }`;

function config(policies: string[], filters: string[] = [], zones = ['trust', 'untrust']): CompiledConfig {
  const text = `
security {
    zones { ${zones.map((z, i) => `security-zone ${z} { interfaces { eth${i}; } }`).join(' ')} }
    policies { from-zone trust to-zone untrust { ${policies.join(' ')} } }
}
firewall { family inet { ${filters.join(' ')} } }
interfaces { eth0 { unit 0 { family inet { filter { input ${filters.length ? /filter (\S+)/.exec(filters[0]!)![1] : 'none'}; } } } } }
`.replace(/interfaces \{ eth0 \{ unit 0 \{ family inet \{ filter \{ input none; \} \} \} \} \}/, '');
  const r = compileText(text, 'test.conf');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

const ids = (c: CompiledConfig) => Object.fromEntries(c.policies.map((p) => [p.name, p.id]));
const nothingCarried: Carried = { zone: () => false, policy: () => false, filter: () => false };

t.test('the first config keeps its positional ids', async (t) => {
  const c = config([policy('a'), policy('b')]);
  const positional = ids(c);
  IdentityRegistry.empty(null).assign(c);
  t.same(ids(c), positional);
});

t.test('a policy keeps its id when another is inserted in front; a removed one names its id for old events', async (t) => {
  let reg = IdentityRegistry.empty(null);
  const first = config([policy('allow-out')]);
  reg = reg.assign(first);
  const allowOut = ids(first)['allow-out']!;
  const second = config([policy('first-new', 'junos-ssh'), policy('allow-out')]);
  reg = reg.assign(second, nothingCarried);
  t.equal(ids(second)['allow-out'], allowOut, 'allow-out keeps its id');
  t.not(ids(second)['first-new'], allowOut, 'first-new gets another');
  const third = config([policy('unrelated', 'junos-ssh')]);
  reg = reg.assign(third, { ...nothingCarried, policy: (id) => id === allowOut });
  t.not(ids(third).unrelated, allowOut, 'a new policy never takes the id of a removed one');
  const names = configNameResolver(third, new Map(), reg);
  t.equal(names.policy(allowOut), 'allow-out', 'the removed policy still names its id');
  // Once nothing carries it any more (and a reload has passed), its id is freed.
  reg = reg.assign(config([policy('unrelated', 'junos-ssh')]), nothingCarried);
  reg = reg.assign(config([policy('unrelated', 'junos-ssh')]), nothingCarried);
  t.equal(reg.policy(allowOut), null, 'forgotten when no session or event carries it');
});

t.test('the same name in another zone pair is another identity', async (t) => {
  let reg = IdentityRegistry.empty(null);
  const a = config([policy('p')]);
  reg = reg.assign(a);
  const text = `security { zones { security-zone trust { interfaces { eth0; } } security-zone untrust { interfaces { eth1; } } }
    policies { from-zone untrust to-zone trust { ${policy('p')} } } }`;
  const r = compileText(text, 'x.conf');
  if (!r.ok) throw new Error('compile');
  reg.assign(r.config, nothingCarried);
  t.not(r.config.policies[0]!.id, a.policies[0]!.id);
});

t.test('filters and terms keep their ids by name; attachments follow', async (t) => {
  let reg = IdentityRegistry.empty(null);
  const a = config([policy('p')], [filter('f', 'one', 'two')]);
  reg = reg.assign(a);
  const f = a.firewall.filters[0]!;
  const two = f.terms.find((x) => x.name === 'two')!.id;
  const b = config([policy('p')], [filter('g', 'x'), filter('f', 'zero', 'two')]);
  reg = reg.assign(b, nothingCarried);
  const fb = b.firewall.filters.find((x) => x.name === 'f')!;
  const g = b.firewall.filters.find((x) => x.name === 'g')!;
  t.equal(fb.id, f.id, 'the filter keeps its id with another in front');
  t.not(g.id, f.id);
  t.equal(fb.terms.find((x) => x.name === 'two')!.id, two, 'a term keeps its id with another in front');
  t.equal(b.firewall.interfaces.get('eth0')?.inet.input, g.id, 'the attachment names the new id');
  const names = configNameResolver(b, new Map(), reg);
  t.equal(names.term(f.id, f.terms.find((x) => x.name === 'one')!.id), 'one', 'a removed term still names its id');
});

t.test('the registry survives in its file; a failed apply changes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-ids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'identities.json');
  const a = config([policy('allow-out')]);
  const reg = IdentityRegistry.load(file).assign(a);
  reg.save();
  const b = config([policy('first-new', 'junos-ssh'), policy('allow-out')]);
  reg.assign(b, nothingCarried); // planned, never saved
  const again = config([policy('second-new', 'junos-ssh'), policy('first-new', 'junos-ssh'), policy('allow-out')]);
  IdentityRegistry.load(file).assign(again, nothingCarried);
  t.equal(ids(again)['allow-out'], ids(a)['allow-out'], 'read back after a restart');
  t.equal(new Set(Object.values(ids(again))).size, 3, 'all distinct');
});
