// The control protocol's request schemas: what passes, and what each malformed request is told.
import t from 'tap';
import { MAX_REQUEST_CHARS, checkRequest, parseRequest } from '../../lib/control/protocol.js';

const refused = (v: unknown): string => {
  const r = checkRequest(v);
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(v)}`);
  return r.error;
};

t.test('well-formed requests of every command pass, as they are', async (t) => {
  const good: unknown[] = [
    { command: 'status' }, { command: 'show-sessions' }, { command: 'show-counters' }, { command: 'show-policies' },
    { command: 'show-config', format: 'set' }, { command: 'show-config', format: 'hierarchical' },
    { command: 'match-policies', query: { fromZone: 'trust', toZone: 'untrust', sourceIp: '10.0.0.1', destinationIp: '10.0.0.2', protocol: 'tcp', destinationPort: 443 } },
    { command: 'match-policies', query: { fromZone: 'a', toZone: 'b', sourceIp: '::1', destinationIp: '::2', protocol: '17', sourcePort: 0, destinationPort: 65535 } },
    { command: 'clear-sessions' }, { command: 'show-log' },
    { command: 'show-sessions', view: 'summary', filter: { protocol: 'tcp', family: 'inet6', interface: 'trust0' } },
    { command: 'show-sessions', view: 'extensive', limit: 100, cursor: 4711, filter: { sourcePrefix: '10.0.0.0/8', destinationPort: '80-90' } },
    { command: 'clear-sessions', filter: { fromZone: 'trust', toZone: 'untrust', policy: 'p', sourcePort: '1', destinationPrefix: '::1' } }, { command: 'show-log', kinds: ['policy-deny', 'filter-log'] },
    { command: 'show-screen-statistics' }, { command: 'show-screen-statistics', zone: 'trust' },
    { command: 'show-firewall' }, { command: 'show-firewall', filter: 'f1' },
    { command: 'monitor-events' }, { command: 'monitor-events', kinds: [] }, { command: 'monitor-events', kinds: ['session-create'] },
    { command: 'reload', configPath: '/etc/xdpfw.conf' }, { command: 'unload' },
    { command: 'ha-role', group: 1, role: 'active' }, { command: 'ha-role', group: 255, role: 'stopped' }, { command: 'show-ha' },
  ];
  for (const v of good) {
    const r = checkRequest(v);
    t.ok(r.ok, JSON.stringify(v));
    if (r.ok) t.equal(r.request, v, 'the request object itself, not a copy');
  }
});

t.test('malformed requests: each error names what is wrong', async (t) => {
  t.equal(refused({ command: 'monitor-events', kinds: { length: 1 } }), 'monitor-events: kinds must be an array of at most 32 items');
  t.equal(refused({ command: 'monitor-events', kinds: ['session-create', 'bogus'] }),
    'monitor-events: kinds[1] must be one of session-create, session-close, policy-deny, screen-drop, filter-log');
  t.equal(refused({ command: 'show-log', kinds: Array(33).fill('policy-deny') }), 'show-log: kinds must be an array of at most 32 items');
  t.equal(refused({ command: 'show-log', kinds: null }), 'show-log: kinds must be an array of at most 32 items', 'null is not absent');
  t.equal(refused({ command: 'reload' }), 'reload: configPath is missing');
  t.equal(refused({ command: 'reload', configPath: 42 }), 'reload: configPath must be a string of 1 to 4096 characters');
  t.equal(refused({ command: 'reload', configPath: '' }), 'reload: configPath must be a string of 1 to 4096 characters');
  t.equal(refused({ command: 'reload', configPath: 'x'.repeat(4097) }), 'reload: configPath must be a string of 1 to 4096 characters');
  t.equal(refused({ command: 'show-config', format: 'xml' }), 'show-config: format must be one of hierarchical, set');
  t.equal(refused({ command: 'show-firewall', filter: ['f'] }), 'show-firewall: filter must be a string of 1 to 256 characters');
  t.equal(refused({ command: 'status', extra: 1 }), 'status: an unknown field "extra"');
  t.equal(refused({ command: 'show-sessions', view: 'all' }), 'show-sessions: view must be one of brief, extensive, summary');
  t.equal(refused({ command: 'show-sessions', limit: 0 }), 'show-sessions: limit must be an integer from 1 to 100000000');
  t.equal(refused({ command: 'show-sessions', filter: { family: 'ipv4' } }), 'show-sessions: filter.family must be one of inet, inet6');
  t.equal(refused({ command: 'clear-sessions', filter: { sourcePort: 80 } }), 'clear-sessions: filter.sourcePort must be a string of 1 to 16 characters');
  t.equal(refused({ command: 'clear-sessions', filter: { everything: true } }), 'clear-sessions: filter has an unknown field "everything"');
  t.equal(refused({ command: 'status', __proto__x: 1 }), 'status: an unknown field "__proto__x"');
  t.equal(refused(JSON.parse('{"command":"status","__proto__":{"a":1}}')), 'status: an unknown field "__proto__"');
  const q = { fromZone: 'a', toZone: 'b', sourceIp: '1.1.1.1', destinationIp: '2.2.2.2', protocol: 'tcp' };
  t.equal(refused({ command: 'match-policies' }), 'match-policies: query is missing');
  t.equal(refused({ command: 'match-policies', query: 'tcp' }), 'match-policies: query must be a JSON object');
  t.equal(refused({ command: 'match-policies', query: { ...q, sourcePort: 70000 } }), 'match-policies: query.sourcePort must be an integer from 0 to 65535');
  t.equal(refused({ command: 'match-policies', query: { ...q, destinationPort: 1.5 } }), 'match-policies: query.destinationPort must be an integer from 0 to 65535');
  t.equal(refused({ command: 'match-policies', query: { ...q, destinationPort: null } }), 'match-policies: query.destinationPort must be an integer from 0 to 65535', 'NaN arrives as null');
  const { toZone: _, ...noTarget } = q;
  t.equal(refused({ command: 'match-policies', query: noTarget }), 'match-policies: query.toZone is missing');
  t.equal(refused({ command: 'match-policies', query: { ...q, depth: [[[[]]]] } }), 'match-policies: query has an unknown field "depth"');
  t.equal(refused({ command: 'ha-role', group: 0, role: 'active' }), 'ha-role: group must be an integer from 1 to 255');
  t.equal(refused({ command: 'ha-role', group: 1, role: 'master' }), 'ha-role: role must be one of active, backup, fault, stopped');
  t.match(refused({ command: 'no-such-thing' }), /^unknown command "no-such-thing"; known: status, show-sessions, .*, unload, ha-role, show-ha$/);
  t.match(refused({ command: 'y'.repeat(10_000) }), /^unknown command "y{40}\.\.\."/, 'a client string is quoted short');
  t.equal(refused({ command: 7 }), 'command must be a string');
  t.equal(refused({}), 'command must be a string');
  t.equal(refused(null), 'a request must be a JSON object with a command');
  t.equal(refused(['status']), 'a request must be a JSON object with a command');
  t.equal(refused('status'), 'a request must be a JSON object with a command');
  t.equal(refused({ command: 'toString' }).startsWith('unknown command "toString"'), true, 'inherited names are no commands');
});

t.test('request lines: not JSON, or nested past reason, is an error, never an exception', async (t) => {
  const bad = (line: string): string => {
    const r = parseRequest(line);
    t.notOk(r.ok, `refused: ${JSON.stringify(line.slice(0, 40))}`);
    return r.ok ? '' : r.error;
  };
  t.match(bad('{"command":'), /^not JSON: /);
  t.match(bad(''), /^not JSON: /);
  t.match(bad('\u0000\u0001'), /^not JSON: /);
  t.equal(bad(`${'['.repeat(30_000)}${']'.repeat(30_000)}`), 'a request must be a JSON object with a command');
  t.equal(bad(`{"command":"status","x":${'['.repeat(30_000)}${']'.repeat(30_000)}}`), 'status: an unknown field "x"');
  t.equal(bad(`{"command":"show-log","kinds":${'['.repeat(30_000)}${']'.repeat(30_000)}}`), 'show-log: kinds[0] must be one of session-create, session-close, policy-deny, screen-drop, filter-log');
  t.ok(parseRequest('{"command":"status"}').ok);
  t.equal(MAX_REQUEST_CHARS, 65536);
});
