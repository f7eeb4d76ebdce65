// The commit archive and the confirm/rollback logic over an apply function: numbering,
// the 50 kept, a failed apply recording nothing, and the deadline kept on disk.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CommitArchive, MAX_COMMITS } from '../../lib/commit/archive.js';
import { type CommitNotice, Commits } from '../../lib/commit/commits.js';
import { checkRequest } from '../../lib/control/protocol.js';

function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'xdpfw-commits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const applied: string[] = [];
  const notices: CommitNotice[] = [];
  let fail = false;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const make = () => new Commits(new CommitArchive(join(dir, 'commits')), async (p) => {
    if (fail) throw new Error('rejected');
    applied.push(p);
    return { config: p };
  }, (n) => notices.push(n));
  return { dir, applied, notices, file, make, setFail: (v: boolean) => { fail = v; } };
}

const id = (r: unknown) => r;

t.test('rollback numbers count back from the running configuration; 50 are kept', async (t) => {
  const s = setup(t);
  const c = s.make();
  c.started(s.file('a.conf', 'a'));
  await c.commit(s.file('b.conf', 'b'), undefined, id);
  t.same(c.list().map((e) => [e.rollback, e.commit]), [[0, 2], [1, 1]]);
  const r = await c.rollback(1, id);
  t.match(r, { commit: { commit: 3, kind: 'rollback', rollbackOf: 1 } });
  t.equal(c.archive.text(c.archive.nth(0)), 'a', 'rollback 1 applied the text of commit 1 again');
  for (let i = 0; i < MAX_COMMITS + 5; i++) await c.commit(s.file('n.conf', `n${i}`), undefined, id);
  t.equal(c.list().length, MAX_COMMITS, `only the last ${MAX_COMMITS}`);
  t.equal(readdirSync(join(s.dir, 'commits')).filter((f) => f.endsWith('.conf')).length, MAX_COMMITS, 'their files too');
  await t.rejects(c.rollback(MAX_COMMITS, id), /no rollback 50: the archive holds 50 configurations/);
  c.close(false);
});

t.test('a failing apply records nothing and leaves nothing pending', async (t) => {
  const s = setup(t);
  const c = s.make();
  c.started(s.file('a.conf', 'a'));
  s.setFail(true);
  await t.rejects(c.commit(s.file('b.conf', 'b'), 5, id), /rejected/);
  t.equal(c.list().length, 1);
  t.equal(c.status().pendingConfirm, null);
  c.close(false);
});

t.test('confirm in time keeps it; a restart keeps the deadline; an expired one rolls back at start', async (t) => {
  const s = setup(t);
  const c = s.make();
  const a = s.file('a.conf', 'a');
  c.started(a);
  const r = await c.commit(s.file('b.conf', 'b'), 10, id);
  t.ok(r.commit.confirmBy);
  t.match(c.status().pendingConfirm, { commit: 2, rollbackTo: 1 });
  t.same(await c.confirm(), { confirmed: 2 });
  t.equal(c.status().pendingConfirm, null);
  await t.rejects(c.confirm(), /no commit awaits confirmation/);

  await c.commit(s.file('c.conf', 'c'), 10, id);
  const deadline = c.status().pendingConfirm?.deadline;
  c.close(false); // the daemon stops; the deadline stays on disk
  const again = s.make();
  again.started(s.file('c.conf', 'c'));
  t.equal(again.status().pendingConfirm?.deadline, deadline, 'the restarted daemon has the same deadline');
  t.equal(again.list().length, 3, 'starting with the newest configuration records nothing new');
  again.close(false);

  // The window passes while no daemon runs.
  const archive = new CommitArchive(join(s.dir, 'commits'));
  archive.setPending({ ...archive.pending()!, deadlineMs: Date.now() - 1 });
  const late = s.make();
  const before = s.applied.length;
  late.started(s.file('c.conf', 'c'));
  for (let i = 0; i < 100 && late.status().pendingConfirm; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(late.status().pendingConfirm, null, 'rolled back at start');
  t.equal(s.applied.length, before + 1);
  t.match(late.list()[0], { kind: 'automatic-rollback', rollbackOf: 2 }, 'to the commit before the unconfirmed one');
  t.ok(s.notices.some((n) => n.action === 'automatic-rollback'), 'told');
  late.close(false);
});

t.test('the control requests of the commit commands are checked', async (t) => {
  t.ok(checkRequest({ command: 'reload', configPath: '/etc/xdpfw.conf', confirmMinutes: 0.05 }).ok, 'fractional minutes');
  t.match(checkRequest({ command: 'reload', configPath: '/x', confirmMinutes: 0 }), { ok: false, error: /confirmMinutes must be a number from 0.001 to 65535/ });
  t.match(checkRequest({ command: 'reload', configPath: '/x', confirmMinutes: '5' }), { ok: false });
  t.ok(checkRequest({ command: 'rollback', index: 49 }).ok);
  t.match(checkRequest({ command: 'rollback', index: 50 }), { ok: false, error: /index must be an integer from 0 to 49/ });
  t.ok(checkRequest({ command: 'confirm' }).ok);
  t.ok(checkRequest({ command: 'diff', rollback: 1 }).ok);
  t.match(checkRequest({ command: 'diff', configPath: 7 }), { ok: false });
});
