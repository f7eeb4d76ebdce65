// Descriptors as the AF_XDP socket hands them up span xdpfw_rx's metadata and the frame; the
// receiver moves them past the metadata, which then sits right before the frame for FrameReader.
import t from 'tap';
import { RX_META, SESSION_KEY } from '../../lib/dataplane/layout.js';
import { FrameReader } from '../../lib/slowpath/frame.js';
import { stripRxMeta } from '../../lib/slowpath/rx-meta.js';
import { frame } from '../helpers/packets.js';

t.test('descriptors move past the metadata; the reader finds it in front of the frame', async (t) => {
  const umem = new ArrayBuffer(8192);
  const bytes = new Uint8Array(umem);
  const pkt = frame({ src: '10.1.0.2', dst: '10.2.0.2', protocol: 'udp', sport: 4001, dport: 53 });
  const at = 256;
  // As XDP pushes it: the metadata as the first bytes of the received packet.
  const meta = Buffer.alloc(RX_META.size);
  meta[RX_META.offset.family] = 2;
  meta[RX_META.offset.protocol] = 17;
  meta.writeUInt16LE(14, RX_META.offset.l3_offset);
  meta.writeUInt16LE(pkt.length - 14, RX_META.offset.l3_len);
  meta.writeUInt16BE(4001, RX_META.offset.src_port);
  meta.writeUInt16BE(53, RX_META.offset.dst_port);
  bytes.set(meta, at);
  bytes.set(pkt, at + RX_META.size);
  const descs = new Uint32Array([at, RX_META.size + pkt.length, 4096, RX_META.size - 1]);
  stripRxMeta(descs, 2);
  t.same([...descs.subarray(0, 2)], [at + RX_META.size, pkt.length], 'the first names the frame alone');
  t.equal(descs[3], 0, 'one too short to hold metadata is left empty');
  const reader = new FrameReader(umem);
  t.ok(reader.read(descs[0]!, descs[1]!), 'the reader takes it');
  t.equal(reader.facts.protocol, 17);
  t.equal(reader.key.length, SESSION_KEY.size);
  t.equal(reader.key.readUInt16BE(SESSION_KEY.offset.src_port), 4001, 'the key carries the metadata\'s ports');
  t.notOk(reader.read(descs[2]!, descs[3]!), 'an empty descriptor is refused');
});
