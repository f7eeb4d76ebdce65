// `xdpfw check` on NAT configs, as a user runs it: errors with file:line:column, and source,
// destination and static NAT still not applied.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../lib/util/paths.js';

const XDPFW = resolve(packageRoot, 'bin', 'xdpfw');
const dir = mkdtempSync(join(tmpdir(), 'xdpfw-nat-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function check(text: string, ...flags: string[]): Promise<{ code: number | null; stdout: string; stderr: string; file: string }> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, text);
  return new Promise((done) => {
    const child = execFile(process.execPath, [XDPFW, 'check', '-c', file, ...flags], { timeout: 60_000 }, (_err, stdout, stderr) => {
      done({ code: child.exitCode, stdout, stderr, file });
    });
  });
}

const ZONES = `security {
    zones {
        security-zone trust { interfaces { eth0; } }
        security-zone untrust { interfaces { eth1; } }
    }
`;

const VALID = `${ZONES}    nat {
        source {
            pool out { address { 192.0.2.0/28; } port { range 2000 { to 3000; } } }
            rule-set rs { from zone trust; to zone untrust; rule r { match { source-address 10.0.0.0/8; } then { source-nat { pool { out; } } } } }
        }
    }
}
`;

const INVALID = `${ZONES}    nat {
        source {
            pool out { address { 192.0.2.0/28; } }
            pool two { address { 192.0.2.8/32; } }
            rule-set rs { from zone trust; to zone untrust; rule r { then { source-nat { pool { gone; } } } } }
        }
    }
}
`;


t.test('a valid source NAT config: checked and accepted (source NAT is applied)', async (t) => {
  const strict = await check(VALID);
  t.equal(strict.code, 0, strict.stderr);
  t.notMatch(strict.stderr, /not supported|is not applied\)|unknown|overlaps/, 'no NAT error, nothing left out');
});

t.test('an invalid NAT config: each error at its file:line:column', async (t) => {
  const strict = await check(INVALID);
  t.not(strict.code, 0);
  const lines = strict.stderr.split('\n').filter((l) => l.startsWith(strict.file)).map((l) => l.slice(strict.file.length));
  t.same(lines, [
    ":9:34: address '192.0.2.8/32' of source pool 'two' overlaps '192.0.2.0/28' of pool 'out'",
    ":10:97: unknown source pool 'gone'",
  ]);
  const ignoring = await check(INVALID, '--ignore-unsupported');
  t.equal(ignoring.code, 0, 'NAT left out: its errors cannot harm what runs');
  t.match(ignoring.stderr, /\.conf:9:34: address '192\.0\.2\.8\/32' of source pool 'two' overlaps '192\.0\.2\.0\/28' of pool 'out' \(security nat is not applied\)/);
  t.match(ignoring.stderr, /\.conf:10:97: unknown source pool 'gone' \(security nat is not applied\)/);
});
