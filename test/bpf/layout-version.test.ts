// A build meeting pinned maps of another layout (a restart across an upgrade) refuses them with
// a clear message and leaves them as they are: the sessions stay, and the programs attached
// through the previous run's links keep judging packets with them (their misses have no slow
// path and drop) until `xdpfw unload`. Runs in its own network namespace.
import { insideTestNetns, reexecInNetns } from '../helpers/netns-reexec.js';

reexecInNetns(import.meta.url, ['ip link set lo up']);

const { default: t } = await import('tap');
const { Dataplane, purgePins } = await import('../../lib/dataplane/dataplane.js');
const { META, SESSION, SESSION_KEY } = await import('../../lib/dataplane/layout.js');
const native = await import('../../lib/dataplane/native.js');
const { statePaths } = await import('../../lib/daemon/state-paths.js');

const paths = statePaths(`/tmp/${insideTestNetns()}`);
t.teardown(() => purgePins(paths));

t.test('pins of another layout version are refused, and kept', async (t) => {
  const first = new Dataplane(paths);
  const version = first.constants.layoutVersion;
  const key = Buffer.alloc(SESSION_KEY.size);
  key[SESSION_KEY.offset.family] = 2;
  key[SESSION_KEY.offset.protocol] = 17;
  const value = Buffer.alloc(SESSION.size);
  value.writeBigUInt64LE(77n, SESSION.offset.session_id);
  native.mapUpdate(first.mapFd('xdpfw_sessions'), key, value, 0);
  // As a build of the previous layout would have left them.
  const meta = Buffer.alloc(META.size);
  meta.writeUInt32LE(version - 1, META.offset.layout_version);
  native.mapUpdate(first.mapFd('xdpfw_meta'), Buffer.alloc(4), meta, 0);
  first.close();

  t.throws(() => new Dataplane(paths), new RegExp(`layout version ${version - 1}, this build uses ${version}; run 'xdpfw unload'`),
    'the new build refuses them, saying what to do');
  const fd = native.getPinned(`${paths.mapPinDir}/xdpfw_sessions`);
  const still = Buffer.alloc(SESSION.size);
  t.ok(native.mapLookup(fd, key, still), 'the pinned sessions are untouched');
  t.equal(still.readBigUInt64LE(SESSION.offset.session_id), 77n);
  native.closeFd(fd);
});
