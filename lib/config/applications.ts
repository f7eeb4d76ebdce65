import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { SetResolver, type Member } from './sets.js';
import { hasPorts, IPPROTO, isIcmp, PORT_NUMBERS, PROTOCOL_NUMBERS } from './protocols.js';
import { child, each, eachOf, valueOf } from './tree.js';
import type { ApplicationTerm } from './types.js';
import { checkName, parseNumber } from './values.js';

/** `applications { application ...; application-set ...; }` plus Junos's predefined applications. */

function term(application: string, protocol: number, dst: [number, number] = [0, 65535], icmpType = -1): ApplicationTerm {
  return {
    application,
    protocol,
    sourcePortLow: 0,
    sourcePortHigh: 65535,
    destinationPortLow: dst[0],
    destinationPortHigh: dst[1],
    icmpType,
    icmpCode: -1,
  };
}

const { TCP, UDP, ICMP, ICMPV6 } = IPPROTO;

/** Junos `junos-defaults` applications (protocol, destination port or ICMP type). */
const PREDEFINED: ReadonlyArray<[string, number, [number, number]?, number?]> = [
  ['junos-ftp', TCP, [21, 21]],
  ['junos-tftp', UDP, [69, 69]],
  ['junos-ssh', TCP, [22, 22]],
  ['junos-telnet', TCP, [23, 23]],
  ['junos-smtp', TCP, [25, 25]],
  ['junos-dns-udp', UDP, [53, 53]],
  ['junos-dns-tcp', TCP, [53, 53]],
  ['junos-bootps', UDP, [67, 67]],
  ['junos-dhcp-server', UDP, [67, 67]],
  ['junos-bootpc', UDP, [68, 68]],
  ['junos-dhcp-client', UDP, [68, 68]],
  ['junos-http', TCP, [80, 80]],
  ['junos-pop3', TCP, [110, 110]],
  ['junos-ntp', UDP, [123, 123]],
  ['junos-netbios-session', TCP, [139, 139]],
  ['junos-imap', TCP, [143, 143]],
  ['junos-bgp', TCP, [179, 179]],
  ['junos-ldap', TCP, [389, 389]],
  ['junos-https', TCP, [443, 443]],
  ['junos-smb-session', TCP, [445, 445]],
  ['junos-ike', UDP, [500, 500]],
  ['junos-syslog', UDP, [514, 514]],
  ['junos-snmp-agentx', TCP, [705, 705]],
  ['junos-imaps', TCP, [993, 993]],
  ['junos-radius', UDP, [1812, 1812]],
  ['junos-radacct', UDP, [1813, 1813]],
  ['junos-rdp', TCP, [3389, 3389]],
  ['junos-ike-nat', UDP, [4500, 4500]],
  ['junos-tcp-any', TCP],
  ['junos-udp-any', UDP],
  ['junos-gre', 47],
  ['junos-ospf', 89],
  // junos-ping and junos-pingv6 admit every ICMP type; the echo-only ones are junos-icmp-ping
  // and junos-icmp6-echo-request.
  ['junos-icmp-all', ICMP],
  ['junos-ping', ICMP],
  ['junos-icmp-ping', ICMP, undefined, 8],
  ['junos-icmp6-all', ICMPV6],
  ['junos-pingv6', ICMPV6],
  ['junos-icmp6-echo-request', ICMPV6, undefined, 128],
  ['junos-icmp6-echo-reply', ICMPV6, undefined, 129],
];

export const PREDEFINED_APPLICATIONS: ReadonlyMap<string, readonly ApplicationTerm[]> = new Map(
  PREDEFINED.map(([name, protocol, dst, icmpType]) => [name, [term(name, protocol, dst, icmpType)]]),
);

const ANY_APPLICATION = 'any';
/** `application any` as a member of a set: a set holding it (at any depth) is `any`. */
const ANY_MEMBER: ApplicationTerm = Object.freeze(term(ANY_APPLICATION, -1));

/** Junos's bounds of `inactivity-timeout`; `never` is the longest a session can wait. */
const INACTIVITY_TIMEOUT_RANGE: readonly [number, number] = [4, 86_400];
export const INACTIVITY_TIMEOUT_NEVER = 0x7fffffff;

/** Resolves application names (applications, sets, predefined, `any`) to terms. */
export class Applications {
  constructor(private readonly resolver: SetResolver<ApplicationTerm>) {}

  /** Terms of `ref`, 'any', or null after reporting an unknown name or a cycle (once). */
  resolve(ref: Word, d: Diagnostics): readonly ApplicationTerm[] | 'any' | null {
    if (ref.text === ANY_APPLICATION) return 'any';
    const terms = this.resolver.resolve(ref, d);
    return terms?.includes(ANY_MEMBER) ? 'any' : terms;
  }
}

/**
 * Compiles the `applications` stanza and checks the members of every set. A definition that
 * fails still defines its name (with no terms) so that references to it are not reported too.
 */
export function compileApplications(root: readonly Statement[], d: Diagnostics): Applications {
  const stanza = child(root, 'applications');
  const apps = new Map<string, readonly ApplicationTerm[]>(PREDEFINED_APPLICATIONS);
  const items = new Map<string, readonly ApplicationTerm[]>([...PREDEFINED_APPLICATIONS, [ANY_APPLICATION, [ANY_MEMBER]]]);
  const sets = new Map<string, Member[]>();
  const names = new Map<string, Word>();
  const define = (w: Word, what: string): boolean => {
    checkName(d, w, `${what} name`);
    if (w.text === ANY_APPLICATION || PREDEFINED_APPLICATIONS.has(w.text)) {
      d.error(w.pos, `'${w.text}' is a predefined application and cannot be redefined`);
      return false;
    }
    const prev = names.get(w.text);
    if (prev) {
      d.error(w.pos, `${what} name '${w.text}' is already used at ${describePos(prev.pos, w.pos)}`);
      return false;
    }
    names.set(w.text, w);
    return true;
  };

  for (const s of each(stanza?.children, 'application')) {
    const name = s.words[1];
    if (!define(name, 'application')) continue;
    const terms = compileApplication(s, d);
    apps.set(name.text, terms);
    items.set(name.text, terms);
  }
  const setNames: Word[] = [];
  for (const s of each(stanza?.children, 'application-set')) {
    const name = s.words[1];
    if (!define(name, 'application-set')) continue;
    const members = eachOf(s.children, ['application', 'application-set']).map((m) => ({ name: m.words[1], isSet: m.words[0].text === 'application-set' }));
    if (members.length === 0) d.error(name.pos, `application-set '${name.text}' has no members`);
    sets.set(name.text, members);
    setNames.push(name);
  }
  const resolver = new SetResolver({ item: 'application', set: 'application-set' }, items, sets);
  for (const name of setNames) resolver.resolve(name, d);
  return new Applications(resolver);
}

/**
 * An application's terms: its own match, or one per `term` (Junos: a multi-term application
 * matches what any of its terms does). `inactivity-timeout` of the application applies to the
 * terms without their own. A term that fails is left out (reported).
 */
function compileApplication(s: Statement, d: Diagnostics): ApplicationTerm[] {
  const name = s.words[1].text;
  const timeout = inactivityTimeout(s, d);
  const terms = each(s.children, 'term');
  if (terms.length === 0) {
    const t = compileMatch(s, name, d);
    if (t && timeout !== null) t.inactivityTimeout = timeout;
    return t ? [t] : [];
  }
  const own = eachOf(s.children, ['protocol', 'source-port', 'destination-port', 'icmp-type', 'icmp-code', 'icmp6-type', 'icmp6-code'])[0];
  if (own) d.error(own.pos, `application '${name}' has terms: '${own.words[0].text}' belongs in one of them`);
  const out: ApplicationTerm[] = [];
  for (const ts of terms) {
    const t = compileMatch(ts, name, d);
    if (!t) continue;
    const termTimeout = inactivityTimeout(ts, d) ?? timeout;
    if (termTimeout !== null) t.inactivityTimeout = termTimeout;
    out.push(t);
  }
  return out;
}

/** `inactivity-timeout N|never` of a statement, or null without one (or after reporting a bad one). */
function inactivityTimeout(s: Statement, d: Diagnostics): number | null {
  const st = child(s.children, 'inactivity-timeout');
  if (!st) return null;
  const w = valueOf(st);
  if (w.text === 'never') return INACTIVITY_TIMEOUT_NEVER;
  return parseNumber(d, w, 'inactivity-timeout (seconds, or never)', INACTIVITY_TIMEOUT_RANGE[0], INACTIVITY_TIMEOUT_RANGE[1]);
}

/** The match of an application (or of one of its terms, `s`): protocol, ports, ICMP type and code. */
function compileMatch(s: Statement, name: string, d: Diagnostics): ApplicationTerm | null {
  const leaf = (kw: string): Word | undefined => {
    const st = child(s.children, kw);
    return st ? valueOf(st) : undefined;
  };
  const protoWord = leaf('protocol');
  if (!protoWord) {
    d.error(s.pos, s.words[0].text === 'term' ? `term '${s.words[1].text}' of application '${name}' needs a protocol` : `application '${name}' needs a protocol`);
    return null;
  }
  const protocol = PROTOCOL_NUMBERS.get(protoWord.text) ?? parseProtocolNumber(protoWord, d);
  if (protocol === null) return null;
  const t = term(name, protocol);
  let ok = true;
  for (const [kw, low, high] of [
    ['source-port', 'sourcePortLow', 'sourcePortHigh'],
    ['destination-port', 'destinationPortLow', 'destinationPortHigh'],
  ] as const) {
    const w = leaf(kw);
    if (!w) continue;
    if (!hasPorts(protocol)) {
      d.error(w.pos, `'${kw}' needs protocol tcp, udp or sctp (application '${name}' has protocol ${protoWord.text})`);
      ok = false;
      continue;
    }
    const range = parsePortRange(w, d);
    if (!range) ok = false;
    else [t[low], t[high]] = range;
  }
  ok = icmpFields(s, t, protoWord, d) && ok;
  return ok ? t : null;
}

/** `icmp-type`/`icmp-code` (ICMP or ICMPv6) and `icmp6-type`/`icmp6-code` (ICMPv6 only). */
function icmpFields(s: Statement, t: ApplicationTerm, protoWord: Word, d: Diagnostics): boolean {
  const stmts = eachOf(s.children, ['icmp-type', 'icmp-code', 'icmp6-type', 'icmp6-code']);
  let ok = true;
  let type: Statement | undefined;
  let code: Statement | undefined;
  for (const st of stmts) {
    const kw = st.words[0].text;
    const v6only = kw.startsWith('icmp6');
    if (!isIcmp(t.protocol) || (v6only && t.protocol !== IPPROTO.ICMPV6)) {
      d.error(st.pos, `'${kw}' needs protocol ${v6only ? 'icmp6' : 'icmp or icmp6'} (application '${t.application}' has protocol ${protoWord.text})`);
      ok = false;
      continue;
    }
    const isType = kw.endsWith('-type');
    const prev = isType ? type : code;
    if (prev) {
      d.error(st.pos, `'${kw}' conflicts with '${prev.words[0].text}' at ${describePos(prev.pos, st.pos)}`);
      ok = false;
      continue;
    }
    if (isType) type = st;
    else code = st;
    const n = parseNumber(d, valueOf(st), kw, 0, 255);
    if (n === null) ok = false;
    else if (isType) t.icmpType = n;
    else t.icmpCode = n;
  }
  if (code && !type) {
    d.error(code.pos, `'${code.words[0].text}' needs an ICMP type as well`);
    ok = false;
  }
  return ok;
}

function parseProtocolNumber(w: Word, d: Diagnostics): number | null {
  if (/^[0-9]+$/.test(w.text)) return parseNumber(d, w, 'protocol number', 0, 255);
  d.error(w.pos, `unknown protocol '${w.text}': expected ${[...PROTOCOL_NUMBERS.keys()].join(', ')} or a number 0-255`);
  return null;
}

/** `80`, `1024-65535` or a Junos port name. */
function parsePortRange(w: Word, d: Diagnostics): [number, number] | null {
  const named = PORT_NUMBERS.get(w.text);
  if (named !== undefined) return [named, named];
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(w.text);
  if (m) {
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (high <= 65535 && low <= high) return [low, high];
  }
  d.error(w.pos, `invalid port '${w.text}': expected a port 0-65535, a range like 1024-65535, or a port name such as http`);
  return null;
}
