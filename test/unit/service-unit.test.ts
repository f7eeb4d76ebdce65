// The unit install-service writes: command lines quoted the way systemd
// splits them, and the shipped unit's Exec lines replaced, nothing else.
import t from 'tap';
import { quoteUnitWord, renderUnit, shippedUnit } from '../../lib/service/unit.js';

t.test('words that systemd would split or expand are quoted and escaped', (t) => {
  t.equal(quoteUnitWord('/usr/bin/node'), '/usr/bin/node');
  t.equal(quoteUnitWord('/opt/my fw/bin/xdpfw'), '"/opt/my fw/bin/xdpfw"');
  t.equal(quoteUnitWord('/etc/xdpfw/100%.conf'), '/etc/xdpfw/100%%.conf', '% starts a specifier');
  t.equal(quoteUnitWord('/etc/$HOME.conf'), '/etc/$$HOME.conf', '$ starts a variable');
  t.equal(quoteUnitWord('/a "b"\\c'), '"/a \\"b\\"\\\\c"');
  t.throws(() => quoteUnitWord('/etc/a\nb'), /cannot put/, 'a newline would end the line');
  t.throws(() => quoteUnitWord(''), /cannot put/);
  t.end();
});

t.test('renderUnit replaces ExecStart and ExecReload and keeps the rest', (t) => {
  const shipped = shippedUnit();
  const out = renderUnit(shipped, { node: '/usr/bin/node', xdpfw: '/opt/x fw/bin/xdpfw', config: '/etc/xdpfw/a.conf' });
  t.match(out, /^ExecStart=\/usr\/bin\/node "\/opt\/x fw\/bin\/xdpfw" run -c \/etc\/xdpfw\/a\.conf$/m);
  t.match(out, /^ExecReload=\/usr\/bin\/node "\/opt\/x fw\/bin\/xdpfw" reload -c \/etc\/xdpfw\/a\.conf$/m);
  const rest = (text: string) => text.split('\n').filter((l) => !/^Exec(Start|Reload)=/.test(l));
  t.same(rest(out), rest(shipped), 'every other line as shipped');
  t.throws(() => renderUnit('[Service]\nType=notify\n', { node: '/n', xdpfw: '/x', config: '/c' }), /no ExecStart= line/);
  t.end();
});
