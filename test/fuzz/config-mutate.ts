// Configuration mutations of the fuzz tier: seed configurations, a
// token-level mutator, and the oracle every mutated text must satisfy
// (errors with file:line:column, or a configuration that reads back the
// same from either printed form). Shared by test/unit/config-fuzz.test.ts,
// test/fuzz/config-check.test.ts and test/fuzz/reload.test.ts.
import { type CompileResult, compileText, readConfigTree } from '../../lib/config/compile.js';
import { ConfigError } from '../../lib/config/errors.js';
import { printHierarchical, printSet } from '../../lib/config/printer.js';

export const SEEDS = [
  `interfaces { eth0 { unit 0 { family inet { address 10.0.0.1/24; filter { input f; } } } } }
security {
    zones {
        security-zone trust { interfaces { eth0; } host-inbound-traffic { system-services { all; telnet except; } protocols { bgp; } } }
        security-zone untrust { interfaces { eth1; } }
    }
    address-book global {
        address web 192.0.2.10/32;
        address v6 2001:db8::/32;
        address-set servers { address web; address v6; }
    }
    policies {
        from-zone trust to-zone untrust {
            policy allow { match { source-address any; destination-address servers; application [ junos-http junos-https web ]; } then { permit; log { session-init; } count; } }
            inactive: policy old { match { source-address any; destination-address any; application any; } then deny; }
        }
        global { policy g { match { source-address any-ipv6; destination-address any; application junos-pingv6; } then reject; } }
        default-policy { deny-all; }
    }
    flow { timeouts { tcp 300; udp 30; } max-sessions 1000; }
}
applications {
    application alt { protocol tcp; destination-port 8080-8081; }
    application-set web { application alt; application junos-http; }
}
policy-options { prefix-list mgmt { 192.0.2.0/24; 2001:db8::/32; } }
routing-instances { isp2 { instance-type virtual-router; table-id 100; } }
firewall {
    family inet {
        filter f {
            term ssh { from { source-prefix-list { mgmt; } protocol tcp; destination-port [ ssh 8000-8080 ]; tcp-flags "syn & !ack"; } then { count ssh; log; accept; } }
            term ping { from { source-address { 10.0.0.0/8; 10.1.0.0/16 except; } icmp-type [ echo-request 0 ]; dscp af11; } then { reject host-unreachable; syslog; } }
            inactive: term old { then discard; }
            term pbr { from { is-fragment; } then routing-instance isp2; }
        }
    }
}
`,
  `# set form
set security zones security-zone a interfaces eth0
set security zones security-zone b interfaces eth1
set security zones security-zone a host-inbound-traffic system-services ping
set security address-book global address n1 10.1.0.0/16
set security address-book global address-set s1 address n1
set applications application dns protocol udp destination-port domain
set applications application echo protocol icmp icmp-type 8 icmp-code 0
set security policies from-zone a to-zone b policy p1 match source-address s1 destination-address any application [ dns echo ]
set security policies from-zone a to-zone b policy p1 then permit log session-close
set security policies from-zone b to-zone a inactive: policy p2 match source-address any destination-address any application any
set security policies from-zone b to-zone a inactive: policy p2 then deny
set security policies default-policy permit-all
set security flow timeouts icmp 10
`,
];

const JUNK = ['{', '}', ';', '[', ']', '"', '#', '/*', '*/', 'inactive:', 'set', '\\', '\n', 'any', '0', '65536', '::', '/', '-', 'policy', 'address'];

export function mutate(text: string, rand: () => number): string {
  const int = (n: number): number => Math.floor(rand() * n);
  const tokens = text.split(/(\s+)/);
  const words = (): number => 2 * int(Math.ceil(tokens.length / 2));
  for (let rounds = 1 + int(2); rounds > 0; rounds--) {
    switch (int(7)) {
      case 0:
        return tokens.join('').slice(0, int(text.length));
      case 1:
        tokens.splice(words(), 1, '');
        break;
      case 2: {
        const i = words();
        tokens.splice(i, 0, tokens[i] ?? '', ' ');
        break;
      }
      case 3: {
        const [i, j] = [words(), words()];
        [tokens[i], tokens[j]] = [tokens[j] ?? '', tokens[i] ?? ''];
        break;
      }
      case 4:
        tokens.splice(words(), 0, JUNK[int(JUNK.length)], ' ');
        break;
      case 5: {
        const bytes = Array.from({ length: 1 + int(8) }, () => String.fromCharCode(int(256)));
        tokens.splice(words(), 0, bytes.join(''));
        break;
      }
      default: {
        const i = words();
        const w = tokens[i] ?? '';
        const at = int(w.length + 1);
        tokens[i] = w.slice(0, at) + String.fromCharCode(int(128)) + w.slice(at + 1);
      }
    }
  }
  return tokens.join('');
}

/**
 * What is wrong with the outcome of compiling `text` (by `load`, which reads it from
 * `file`), or null.
 */
export function problem(text: string, load: () => CompileResult = () => compileText(text, 'fuzz.conf'), file = 'fuzz.conf'): string | null {
  let r;
  try {
    r = load();
  } catch (e) {
    return `threw ${(e as Error).stack}`;
  }
  if (!r.ok) {
    const bad = r.errors.length === 0 || r.errors.some((e) => !(e instanceof ConfigError) || e.file !== file || e.line < 1 || e.column < 1 || !e.message || /[\n\r]/.test(e.message));
    return bad ? `malformed errors ${JSON.stringify(r.errors)}` : null;
  }
  // A configuration that compiles must read back the same from either printed form.
  for (const printed of [printHierarchical(r.config.tree), printSet(r.config.tree)]) {
    const again = readConfigTree(printed, 'again.conf');
    if (again.errors.length || !compileText(printed, 'again.conf').ok || printHierarchical(again.tree) !== printHierarchical(r.config.tree)) {
      return `printed form does not read back:\n${printed}`;
    }
  }
  return null;
}

const ACTIONS = ['permit', 'deny', 'reject', 'accept', 'discard', 'log', 'count', 'syslog'];
const NUMBERS = ['0', '1', '7', '22', '443', '65535', '65536', '4294967296', '300'];

/**
 * A gentler mutation that often still compiles, so a reload applies it: an action or a
 * number changed, a whole one-line statement dropped or repeated; sometimes one word
 * swapped for another of the same text.
 */
export function mildMutate(text: string, rand: () => number): string {
  const int = (n: number): number => Math.floor(rand() * n);
  const lines = text.split('\n');
  const words = text.split(/(\s+)/);
  const wordAt = (): number => 2 * int(Math.ceil(words.length / 2));
  /** A word of `words` matching `re`, from a random place on (wrapping round), or -1. */
  const find = (re: RegExp): number => {
    const from = wordAt();
    for (let k = 0; k < words.length; k += 2) {
      const i = (from + k) % (words.length + (words.length % 2));
      if (re.test(words[i] ?? '')) return i;
    }
    return -1;
  };
  /** A line that is a whole statement (its braces balance), or -1. */
  const statement = (): number => {
    const from = int(lines.length);
    for (let k = 0; k < lines.length; k++) {
      const i = (from + k) % lines.length;
      const l = lines[i]!;
      if (l.trim() && l.split('{').length === l.split('}').length && /;\s*(\}\s*)*$/.test(l)) return i;
    }
    return -1;
  };
  switch (int(6)) {
    case 0: {
      const i = wordAt();
      words[i] = words[wordAt()] ?? '';
      return words.join('');
    }
    case 1:
    case 2: {
      const i = find(new RegExp(`^(${ACTIONS.join('|')});?$`));
      if (i >= 0) words[i] = words[i]!.replace(/^[a-z]+/, ACTIONS[int(ACTIONS.length)]!);
      return words.join('');
    }
    case 3: {
      const i = find(/^\d+;?$/);
      if (i >= 0) words[i] = words[i]!.replace(/^\d+/, NUMBERS[int(NUMBERS.length)]!);
      return words.join('');
    }
    case 4: {
      const i = statement();
      if (i >= 0) lines.splice(i, 1);
      return lines.join('\n');
    }
    default: {
      const i = statement();
      if (i >= 0) lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
  }
}
