// Golden lines of every event kind in every format. The v4 flows are those of
// shared/REFERENCE.md, and where REFERENCE.md shows a line it is matched here
// byte for byte.
import t from 'tap';
import { formatter, type EventFormat } from '../../lib/events/formats/index.js';
import type { SecurityEvent } from '../../lib/events/types.js';
import {
  ALL, AWKWARD, CLOSE, CLOSE6, CREATE, CREATE6, CTX, DENY, DENY6, FILTER, FILTER6, ICMP_FLOOD6, SCREEN, SPOOF6,
} from './events-fixture.js';

const SD = '[junos@2636.1.1.1.2.129';
const fmt = (f: EventFormat, ev: SecurityEvent, ctx = CTX): string => formatter(f, ctx)(ev);

// Shared tails of the RT_FLOW lines.
const TUPLE4 = 'source-address="192.0.2.10" source-port="40112" destination-address="198.51.100.7" destination-port="443" connection-tag="0" service-name="junos-https" nat-source-address="192.0.2.10" nat-source-port="40112" nat-destination-address="198.51.100.7" nat-destination-port="443" nat-connection-tag="0" src-nat-rule-type="N/A" src-nat-rule-name="N/A" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="6"';
const APP_TAIL = 'application-category="N/A" application-sub-category="N/A" application-risk="1" application-characteristics="N/A"]';

const STRUCTURED: Array<[SecurityEvent, string]> = [
  [
    CREATE,
    // REFERENCE.md, verbatim.
    '<14>1 2026-03-02T10:15:04.120+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="192.0.2.10" source-port="40112" destination-address="198.51.100.7" destination-port="443" connection-tag="0" service-name="junos-https" nat-source-address="192.0.2.10" nat-source-port="40112" nat-destination-address="198.51.100.7" nat-destination-port="443" nat-connection-tag="0" src-nat-rule-type="N/A" src-nat-rule-name="N/A" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="6" policy-name="allow-web" source-zone-name="trust" destination-zone-name="untrust" session-id-32="1042" username="N/A" roles="N/A" packet-incoming-interface="trust0" application="UNKNOWN" nested-application="UNKNOWN" encrypted="UNKNOWN" application-category="N/A" application-sub-category="N/A" application-risk="1" application-characteristics="N/A"]',
  ],
  [
    CLOSE,
    `<14>1 2026-03-02T10:16:10.000+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_CLOSE ${SD} reason="TCP FIN" ${TUPLE4} policy-name="allow-web" source-zone-name="trust" destination-zone-name="untrust" session-id-32="1042" packets-from-client="12" bytes-from-client="1804" packets-from-server="10" bytes-from-server="9120" elapsed-time="66" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="trust0" encrypted="No" ${APP_TAIL}`,
  ],
  [
    DENY,
    `<14>1 2026-03-02T10:16:11.000+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_DENY ${SD} source-address="192.0.2.10" source-port="53124" destination-address="203.0.113.5" destination-port="53" connection-tag="0" service-name="junos-dns-udp" protocol-id="17" icmp-type="0" policy-name="deny-dns" source-zone-name="trust" destination-zone-name="untrust" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="trust0" encrypted="UNKNOWN" reason="Denied by policy" session-id-32="0" ${APP_TAIL}`,
  ],
  [
    SCREEN,
    `<11>1 2026-03-02T10:16:30.500+00:00 fw1 RT_IDS - RT_SCREEN_TCP ${SD} attack-name="SYN flood!" source-address="198.51.100.99" source-port="40001" destination-address="192.0.2.10" destination-port="80" source-zone-name="untrust" interface-name="untrust0" action="drop"]`,
  ],
  [
    FILTER,
    `<158>1 2026-03-02T10:17:00.000+00:00 fw1 PFE - PFE_FW_SYSLOG_IP ${SD} interface-name="trust0" action="discard" protocol-id="6" source-address="192.0.2.10" destination-address="203.0.113.9" source-port="40500" destination-port="22" packet-count="1" filter-name="protect-in" term-name="ssh" filter-source="input"]`,
  ],
];

const BRIEF: Array<[SecurityEvent, string]> = [
  // CREATE, CLOSE and DENY: REFERENCE.md, verbatim.
  [CREATE, 'Mar  2 10:15:04 fw1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 192.0.2.10/40112->198.51.100.7/443 junos-https 192.0.2.10/40112->198.51.100.7/443 None None 6 allow-web trust untrust 1042 N/A(N/A) trust0'],
  [CLOSE, 'Mar  2 10:16:10 fw1 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed TCP FIN: 192.0.2.10/40112->198.51.100.7/443 junos-https 192.0.2.10/40112->198.51.100.7/443 None None 6 allow-web trust untrust 1042 12(1804) 10(9120) 66 UNKNOWN UNKNOWN N/A(N/A) trust0 No'],
  [DENY, 'Mar  2 10:16:11 fw1 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 192.0.2.10/53124->203.0.113.5/53 junos-dns-udp 17(0) deny-dns(global) trust untrust UNKNOWN UNKNOWN N/A(N/A) trust0 UNKNOWN policy deny'],
  [SCREEN, 'Mar  2 10:16:30 fw1 RT_IDS: RT_SCREEN_TCP: SYN flood! source: 198.51.100.99:40001, destination: 192.0.2.10:80, zone name: untrust, interface name: untrust0, action: drop'],
  [FILTER, 'Mar  2 10:17:00 fw1 PFE_FW_SYSLOG_IP: FW: trust0       D  tcp 192.0.2.10 203.0.113.9 40500    22 (1 packets)'],
];

const PRI = new Map<SecurityEvent, number>([[CREATE, 14], [CLOSE, 14], [DENY, 14], [SCREEN, 11], [FILTER, 158]]);

const COMMON4 = {
  family: 'inet',
  protocol: 6,
  protocolName: 'tcp',
  sourceAddress: '192.0.2.10',
  sourcePort: 40112,
  destinationAddress: '198.51.100.7',
  destinationPort: 443,
  icmpType: 0,
  ingressIfindex: 3,
  ingressInterface: 'trust0',
  sourceZoneId: 1,
  sourceZone: 'trust',
};
const EGRESS4 = { egressIfindex: 4, egressInterface: 'untrust0', destinationZoneId: 2, destinationZone: 'untrust' };
const head = (iso: string, ns: string, kind: string, tag: string) => ({ timestamp: iso, timestampNs: ns, hostname: 'fw1', kind, tag });

const JSON_LINES: Array<[SecurityEvent, object]> = [
  [
    CREATE,
    {
      ...head('2026-03-02T10:15:04.120Z', '1772446504120000000', 'session-create', 'RT_FLOW_SESSION_CREATE'),
      ...COMMON4, ...EGRESS4,
      sessionId: 1042, policyId: 65537, policy: 'allow-web', policySet: null, application: 'junos-https',
    },
  ],
  [
    CLOSE,
    {
      ...head('2026-03-02T10:16:10.000Z', '1772446570000000000', 'session-close', 'RT_FLOW_SESSION_CLOSE'),
      ...COMMON4, ...EGRESS4,
      sessionId: 1042, policyId: 65537, policy: 'allow-web', policySet: null, application: 'junos-https',
      reason: 'tcp-fin', reasonText: 'TCP FIN', packetsFromClient: 12, bytesFromClient: 1804, packetsFromServer: 10, bytesFromServer: 9120, elapsedSeconds: 66,
    },
  ],
  [
    DENY,
    {
      ...head('2026-03-02T10:16:11.000Z', '1772446571000000000', 'policy-deny', 'RT_FLOW_SESSION_DENY'),
      ...COMMON4, protocol: 17, protocolName: 'udp', sourcePort: 53124, destinationAddress: '203.0.113.5', destinationPort: 53, ...EGRESS4,
      policyId: 4294901761, policy: 'deny-dns', policySet: 'global', application: 'junos-dns-udp', action: 'deny',
    },
  ],
  [
    SCREEN,
    {
      ...head('2026-03-02T10:16:30.500Z', '1772446590500000000', 'screen-drop', 'RT_SCREEN_TCP'),
      family: 'inet', protocol: 6, protocolName: 'tcp', sourceAddress: '198.51.100.99', sourcePort: 40001, destinationAddress: '192.0.2.10', destinationPort: 80,
      icmpType: 0, ingressIfindex: 4, ingressInterface: 'untrust0', sourceZoneId: 2, sourceZone: 'untrust',
      screen: 'syn-flood', attackName: 'SYN flood!', action: 'drop',
    },
  ],
  [
    FILTER,
    {
      ...head('2026-03-02T10:17:00.000Z', '1772446620000000000', 'filter-log', 'PFE_FW_SYSLOG_IP'),
      ...COMMON4, sourcePort: 40500, destinationAddress: '203.0.113.9', destinationPort: 22,
      egressIfindex: 0, egressInterface: null, destinationZoneId: 0, destinationZone: null,
      filterId: 1, filter: 'protect-in', termId: 2, term: 'ssh', filterSource: 'input', filterInterface: 'trust0', action: 'discard', sessionId: 0,
    },
  ],
];

t.test('structured: RFC 5424 with Junos structured data', async (t) => {
  for (const [ev, line] of STRUCTURED) t.equal(fmt('structured', ev), line, ev.kind);
});

t.test('brief: the Junos text form', async (t) => {
  for (const [ev, line] of BRIEF) t.equal(fmt('brief', ev), line, ev.kind);
});

t.test('rfc3164: the brief form behind its PRI', async (t) => {
  for (const [ev, line] of BRIEF) t.equal(fmt('rfc3164', ev), `<${PRI.get(ev)}>${line}`, ev.kind);
  // REFERENCE.md's firewall filter line, verbatim.
  t.equal(fmt('rfc3164', FILTER), '<158>Mar  2 10:17:00 fw1 PFE_FW_SYSLOG_IP: FW: trust0       D  tcp 192.0.2.10 203.0.113.9 40500    22 (1 packets)');
});

t.test('json: one line, names and ids', async (t) => {
  for (const [ev, obj] of JSON_LINES) t.equal(fmt('json', ev), JSON.stringify(obj), ev.kind);
  t.equal(ALL.length, JSON_LINES.length, 'every kind covered');
});

t.test('IPv6 in every kind', async (t) => {
  const V6 = 'source-address="2001:db8::10" source-port="40112" destination-address="2001:db8:0:1::7" destination-port="443" connection-tag="0" service-name="junos-https" nat-source-address="2001:db8::10" nat-source-port="40112" nat-destination-address="2001:db8:0:1::7" nat-destination-port="443" nat-connection-tag="0" src-nat-rule-type="N/A" src-nat-rule-name="N/A" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="6"';
  const cases: Array<[SecurityEvent, string, string]> = [
    [
      CREATE6,
      `<14>1 2026-03-02T10:15:04.120+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_CREATE ${SD} ${V6} policy-name="allow-web" source-zone-name="trust" destination-zone-name="untrust" session-id-32="1042" username="N/A" roles="N/A" packet-incoming-interface="trust0" application="UNKNOWN" nested-application="UNKNOWN" encrypted="UNKNOWN" ${APP_TAIL}`,
      'Mar  2 10:15:04 fw1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 2001:db8::10/40112->2001:db8:0:1::7/443 junos-https 2001:db8::10/40112->2001:db8:0:1::7/443 None None 6 allow-web trust untrust 1042 N/A(N/A) trust0',
    ],
    [
      CLOSE6,
      `<14>1 2026-03-02T10:16:10.000+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_CLOSE ${SD} reason="idle Timeout" ${V6} policy-name="allow-web" source-zone-name="trust" destination-zone-name="untrust" session-id-32="1042" packets-from-client="12" bytes-from-client="1804" packets-from-server="10" bytes-from-server="9120" elapsed-time="66" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="trust0" encrypted="No" ${APP_TAIL}`,
      'Mar  2 10:16:10 fw1 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed idle Timeout: 2001:db8::10/40112->2001:db8:0:1::7/443 junos-https 2001:db8::10/40112->2001:db8:0:1::7/443 None None 6 allow-web trust untrust 1042 12(1804) 10(9120) 66 UNKNOWN UNKNOWN N/A(N/A) trust0 No',
    ],
    [
      DENY6,
      `<14>1 2026-03-02T10:16:11.000+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_DENY ${SD} source-address="2001:db8::10" source-port="0" destination-address="2001:db8:0:1::7" destination-port="0" connection-tag="0" service-name="None" protocol-id="58" icmp-type="128" policy-name="deny-dns" source-zone-name="trust" destination-zone-name="untrust" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="trust0" encrypted="UNKNOWN" reason="Rejected by policy" session-id-32="0" ${APP_TAIL}`,
      'Mar  2 10:16:11 fw1 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 2001:db8::10/0->2001:db8:0:1::7/0 None 58(128) deny-dns(global) trust untrust UNKNOWN UNKNOWN N/A(N/A) trust0 UNKNOWN policy reject',
    ],
    [
      SPOOF6,
      `<11>1 2026-03-02T10:16:30.500+00:00 fw1 RT_IDS - RT_SCREEN_IP ${SD} attack-name="IP spoofing!" source-address="2001:db8::10" destination-address="2001:db8:0:1::7" protocol-id="17" source-zone-name="untrust" interface-name="untrust0" action="alarm-without-drop"]`,
      'Mar  2 10:16:30 fw1 RT_IDS: RT_SCREEN_IP: IP spoofing! source: 2001:db8::10, destination: 2001:db8:0:1::7, protocol-id: 17, zone name: untrust, interface name: untrust0, action: alarm-without-drop',
    ],
    [
      ICMP_FLOOD6,
      `<11>1 2026-03-02T10:16:30.500+00:00 fw1 RT_IDS - RT_SCREEN_ICMP ${SD} attack-name="ICMP flood!" source-address="2001:db8::10" destination-address="2001:db8:0:1::7" source-zone-name="untrust" interface-name="untrust0" action="drop"]`,
      'Mar  2 10:16:30 fw1 RT_IDS: RT_SCREEN_ICMP: ICMP flood! source: 2001:db8::10, destination: 2001:db8:0:1::7, zone name: untrust, interface name: untrust0, action: drop',
    ],
    [
      FILTER6,
      `<158>1 2026-03-02T10:17:00.000+00:00 fw1 PFE - PFE_FW_SYSLOG_IP ${SD} interface-name="untrust0" action="reject" protocol-id="17" source-address="2001:db8::10" destination-address="2001:db8:0:1::7" source-port="40500" destination-port="22" packet-count="1" filter-name="protect-in" term-name="ssh" filter-source="cached-output"]`,
      'Mar  2 10:17:00 fw1 PFE_FW_SYSLOG_IP: FW: untrust0     R  udp 2001:db8::10 2001:db8:0:1::7 40500    22 (1 packets)',
    ],
  ];
  for (const [ev, structured, brief] of cases) {
    t.equal(fmt('structured', ev), structured, `structured ${ev.kind}`);
    t.equal(fmt('brief', ev), brief, `brief ${ev.kind}`);
    t.equal(fmt('rfc3164', ev), `<${structured.slice(1, structured.indexOf('>'))}>${brief}`, `rfc3164 ${ev.kind}`);
    const json = JSON.parse(fmt('json', ev)) as { family: string; sourceAddress: string; destinationAddress: string };
    t.same([json.family, json.sourceAddress, json.destinationAddress], ['inet6', '2001:db8::10', '2001:db8:0:1::7'], `json ${ev.kind}`);
  }
  t.equal(
    fmt('json', FILTER6),
    JSON.stringify({
      ...head('2026-03-02T10:17:00.000Z', '1772446620000000000', 'filter-log', 'PFE_FW_SYSLOG_IP'),
      family: 'inet6', protocol: 17, protocolName: 'udp', sourceAddress: '2001:db8::10', sourcePort: 40500, destinationAddress: '2001:db8:0:1::7', destinationPort: 22,
      icmpType: 0, ingressIfindex: 3, ingressInterface: 'trust0', sourceZoneId: 1, sourceZone: 'trust', ...EGRESS4,
      filterId: 1, filter: 'protect-in', termId: 2, term: 'ssh', filterSource: 'cached-output', filterInterface: 'untrust0', action: 'reject', sessionId: 77,
    }),
  );
});

t.test('names that need escaping', async (t) => {
  // RFC 5424 §6.3.3: `"`, `\` and `]` get a backslash; `[` does not.
  t.equal(
    fmt('structured', CREATE, AWKWARD),
    String.raw`<14>1 2026-03-02T10:15:04.120+00:00 fw1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 ` +
      TUPLE4 +
      String.raw` policy-name="allow\"web\\\]" source-zone-name="tr\"ust" destination-zone-name="un\\trust" session-id-32="1042" username="N/A" roles="N/A" packet-incoming-interface="eth[0\]" application="UNKNOWN" nested-application="UNKNOWN" encrypted="UNKNOWN" ` +
      APP_TAIL,
  );
  t.equal(
    fmt('structured', SCREEN, AWKWARD),
    String.raw`<11>1 2026-03-02T10:16:30.500+00:00 fw1 RT_IDS - RT_SCREEN_TCP [junos@2636.1.1.1.2.129 attack-name="SYN flood!" source-address="198.51.100.99" source-port="40001" destination-address="192.0.2.10" destination-port="80" source-zone-name="un\\trust" interface-name="eth\]1" action="drop"]`,
  );
  t.equal(
    fmt('structured', FILTER, AWKWARD),
    String.raw`<158>1 2026-03-02T10:17:00.000+00:00 fw1 PFE - PFE_FW_SYSLOG_IP [junos@2636.1.1.1.2.129 interface-name="eth[0\]" action="discard" protocol-id="6" source-address="192.0.2.10" destination-address="203.0.113.9" source-port="40500" destination-port="22" packet-count="1" filter-name="f\"1" term-name="t\\2" filter-source="input"]`,
  );
  // The closing `]` is the last character however the names look.
  for (const ev of ALL) t.ok(fmt('structured', ev, AWKWARD).endsWith('"]'), `${ev.kind} ends at its SD element`);
  // The brief form has no escaping: names appear as they are.
  t.equal(
    fmt('brief', DENY, AWKWARD),
    'Mar  2 10:16:11 fw1 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 192.0.2.10/53124->203.0.113.5/53 junos-dns-udp 17(0) deny]dns(global) tr"ust un\\trust UNKNOWN UNKNOWN N/A(N/A) eth[0] UNKNOWN policy deny',
  );
  const json = JSON.parse(fmt('json', CLOSE, AWKWARD)) as Record<string, unknown>;
  t.same([json.policy, json.sourceZone, json.ingressInterface], ['allow"web\\]', 'tr"ust', 'eth[0]']);
});

t.test('unknown ids become the Junos placeholders', async (t) => {
  const bare = { ...CREATE, ingressZone: 9, egressZone: 9, ingressIfindex: 99, policyId: 5, destinationPort: 8443 };
  t.equal(
    fmt('brief', bare),
    'Mar  2 10:15:04 fw1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 192.0.2.10/40112->198.51.100.7/8443 None 192.0.2.10/40112->198.51.100.7/8443 None None 6 N/A N/A N/A 1042 N/A(N/A) N/A',
  );
  const json = JSON.parse(fmt('json', bare)) as Record<string, unknown>;
  t.same([json.policy, json.sourceZone, json.ingressInterface, json.application], [null, null, null, null]);
});

t.test('per-address SYN floods carry their own RT_IDS tags and attack names', async (t) => {
  const cases = [
    ['syn-flood-src-ip', 'RT_SCREEN_TCP_SRC_IP', 'SYN flood Src-IP based!'],
    ['syn-flood-dst-ip', 'RT_SCREEN_TCP_DST_IP', 'SYN flood Dst-IP based!'],
  ] as const;
  for (const [screen, tag, name] of cases) {
    const ev: SecurityEvent = { ...SCREEN, screen };
    t.match(fmt('structured', ev), new RegExp(`^<11>1 \\S+ fw1 RT_IDS - ${tag} \\[junos@2636\\.1\\.1\\.1\\.2\\.129 attack-name="${name}" `), `structured ${screen}`);
    t.match(fmt('brief', ev), new RegExp(`^Mar  2 10:16:30 fw1 RT_IDS: ${tag}: ${name} source: `), `brief ${screen}`);
  }
});
