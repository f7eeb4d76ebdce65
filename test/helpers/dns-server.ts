// A tiny authoritative DNS server over UDP for tests: answers A and AAAA questions from a
// JSON file read at every question, so a test changes the answers by rewriting the file:
//   { "ttl": 1, "names": { "web.xdpfw.test": { "A": ["10.2.0.2"], "AAAA": [] } } }
// A name the file lacks gets NXDOMAIN; a known name without records of the type asked, an
// empty answer (NOERROR). Prints {"listening": port} once bound, and one JSON line per answer.
// Usage: node dns-server.js --answers FILE [--listen 127.0.0.1] [--port 53]
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';

interface Answers {
  ttl: number;
  names: Record<string, { A?: string[]; AAAA?: string[] }>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;

const { values } = parseArgs({
  options: {
    answers: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '53' },
  },
});
if (!values.answers) throw new Error('--answers FILE is required');
const answersFile = values.answers;

/** The question's name (lower case), type, class and where the question ends; null if malformed. */
function question(q: Buffer): { name: string; type: number; klass: number; end: number } | null {
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    if (at >= q.length) return null;
    const n = q[at]!;
    if (n === 0) break;
    if (n > 63 || at + 1 + n > q.length) return null; // no compression in questions
    labels.push(q.subarray(at + 1, at + 1 + n).toString('latin1'));
    at += 1 + n;
  }
  at++;
  if (at + 4 > q.length) return null;
  return { name: labels.join('.').toLowerCase(), type: q.readUInt16BE(at), klass: q.readUInt16BE(at + 2), end: at + 4 };
}

function rdata(type: number, address: string): Buffer {
  if (type === TYPE_A) return Buffer.from(address.split('.').map(Number));
  const out = Buffer.alloc(16);
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), 2 * i));
  return out;
}

function answer(q: Buffer): { reply: Buffer; name: string; type: number; records: string[] } | null {
  if (q.length < 12) return null;
  const qd = question(q);
  if (!qd || q.readUInt16BE(4) !== 1) return null;
  const table = JSON.parse(readFileSync(answersFile, 'utf8')) as Answers;
  const entry = table.names[qd.name];
  const records = qd.klass !== CLASS_IN ? []
    : qd.type === TYPE_A ? (entry?.A ?? []).filter((a) => isIPv4(a))
      : qd.type === TYPE_AAAA ? (entry?.AAAA ?? []).filter((a) => isIPv6(a)) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.readUInt16BE(0), 0); // id
  // QR, the RD bit as asked, AA, RA; NXDOMAIN for a name the file lacks.
  header.writeUInt16BE(0x8000 | (q.readUInt16BE(2) & 0x0100) | 0x0400 | 0x0080 | (entry ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const parts = [header, q.subarray(12, qd.end)];
  for (const r of records) {
    const data = rdata(qd.type, r);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(qd.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(table.ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    parts.push(rr, data);
  }
  return { reply: Buffer.concat(parts), name: qd.name, type: qd.type, records };
}

const sock = createSocket(isIPv6(values.listen) ? 'udp6' : 'udp4');
sock.on('message', (msg, peer) => {
  try {
    const a = answer(msg);
    if (!a) return;
    sock.send(a.reply, peer.port, peer.address);
    process.stdout.write(`${JSON.stringify({ name: a.name, type: a.type, records: a.records })}\n`);
  } catch (err) {
    process.stderr.write(`dns-server: ${(err as Error).message}\n`);
  }
});
sock.bind(Number(values.port), values.listen, () => process.stdout.write(`${JSON.stringify({ listening: Number(values.port) })}\n`));
