// Finding the host's bpffs: mountinfo parsing, the mount visible at a mount
// point, and device numbers as stat(2) reports them on this machine.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { bpffsAt, deviceOf, parseMountInfo } from '../../lib/dataplane/bpffs.js';

const MOUNTINFO = [
  '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '45 22 0:40 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:8 master:2 - bpf bpf rw,mode=700',
  '61 1 0:52 / /mnt/with\\040space rw,relatime - bpf none rw',
].join('\n');

t.test('mountinfo: ids, devices, mount points (octal escapes undone) and types, optional fields or not', async (t) => {
  t.same(parseMountInfo(MOUNTINFO), [
    { mountId: 22, device: '0:21', mountPoint: '/sys', fsType: 'sysfs' },
    { mountId: 45, device: '0:40', mountPoint: '/sys/fs/bpf', fsType: 'bpf' },
    { mountId: 61, device: '0:52', mountPoint: '/mnt/with space', fsType: 'bpf' },
  ]);
  t.same(parseMountInfo('\ngarbage line\n'), [], 'lines that are not mountinfo are skipped');
});

t.test('the bpffs at /sys/fs/bpf is the topmost mount there, when it is a bpffs', async (t) => {
  t.equal(bpffsAt(parseMountInfo(MOUNTINFO))?.device, '0:40');
  const covered = `${MOUNTINFO}\n70 45 0:60 / /sys/fs/bpf rw - tmpfs tmpfs rw`;
  t.equal(bpffsAt(parseMountInfo(covered)), undefined, 'a tmpfs mounted over it hides it');
  const stacked = `${MOUNTINFO}\n71 45 0:61 / /sys/fs/bpf rw - bpf bpf rw`;
  t.equal(bpffsAt(parseMountInfo(stacked))?.device, '0:61', 'of two, the one mounted last');
  t.equal(bpffsAt(parseMountInfo(MOUNTINFO.split('\n')[0]!)), undefined, 'none mounted');
});

t.test('deviceOf gives the major:minor mountinfo shows for the same file system', async (t) => {
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  const root = mounts.filter((m) => m.mountPoint === '/').at(-1);
  t.equal(deviceOf('/'), root?.device, `/ is on ${root?.device}`);
  const bpf = bpffsAt(mounts);
  t.ok(bpf, 'the bpffs is mounted (make deps mounts it)');
  t.equal(deviceOf('/sys/fs/bpf'), bpf?.device, `/sys/fs/bpf is on ${bpf?.device}`);
  t.equal(deviceOf('/nonexistent/path'), undefined);
});
