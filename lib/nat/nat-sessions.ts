// The translated sessions of the dataplane: their xdpfw_nat_sessions entries (written before a
// session's first packet is sent on, deleted with it) and their translation, given back to the
// allocator when the session ends, however it ends (closed by XDP, expired, cleared, refused
// by a batch write).
import { NAT_SETTINGS } from '../dataplane/layout.js';
import { mapDelete, mapUpdate } from '../dataplane/native.js';
import type { SourceNat, SourceTranslation } from './source-nat.js';
import type { NatEntry } from './translated-tuple.js';

const BPF_ANY = 0;

export interface TranslatedSession {
  translation: SourceTranslation;
  /** The client's tuple as it leaves translated (struct xdpfw_session_key). */
  translated: Buffer;
  entries: [NatEntry, NatEntry];
}

export class NatSessions {
  private readonly live = new Map<number, TranslatedSession>();
  private source: SourceNat | null = null;

  constructor(
    private readonly natMapFd: number,
    private readonly settingsFd: number,
    private readonly activeFlag: number,
  ) {}

  /** The source NAT new flows get (null: none); XDP looks up translated tuples while there is any. */
  configure(source: SourceNat | null): void {
    // Live sessions keep their leases in the allocator that made them.
    this.source = source;
    this.writeActive(source?.active === true || this.live.size > 0);
  }

  get sourceNat(): SourceNat | null {
    return this.source;
  }

  /** Writes the session's entries (before install: XDP may see its packets at once). Throws if the map refuses them. */
  write(sessionId: number, t: TranslatedSession): void {
    const [a, b] = t.entries;
    mapUpdate(this.natMapFd, a.key, a.value, BPF_ANY);
    try {
      mapUpdate(this.natMapFd, b.key, b.value, BPF_ANY);
    } catch (err) {
      mapDelete(this.natMapFd, a.key);
      throw err;
    }
    this.live.set(sessionId, t);
    if (this.live.size === 1) this.writeActive(true);
  }

  /** The translation of a live session, or undefined. */
  of(sessionId: number): TranslatedSession | undefined {
    return this.live.get(sessionId);
  }

  /** The session ended (or was never installed): its entries go, its address and port are free again. */
  release(sessionId: number, owner: SourceNat | null = this.source): void {
    const t = this.live.get(sessionId);
    if (!t) return;
    this.live.delete(sessionId);
    for (const e of t.entries) mapDelete(this.natMapFd, e.key);
    (this.owners.get(sessionId) ?? owner)?.free(t.translation);
    this.owners.delete(sessionId);
  }

  /** Which SourceNat allocated a session's lease, when a reload replaced it since. */
  private readonly owners = new Map<number, SourceNat>();

  /** Before a reload replaces the source NAT: live sessions free into the one that allocated them. */
  keepOwners(): void {
    if (!this.source) return;
    for (const id of this.live.keys()) if (!this.owners.has(id)) this.owners.set(id, this.source);
  }

  get size(): number {
    return this.live.size;
  }

  private writeActive(active: boolean): void {
    const v = Buffer.alloc(NAT_SETTINGS.size);
    v.writeUInt32LE(active ? this.activeFlag : 0, NAT_SETTINGS.offset.flags);
    mapUpdate(this.settingsFd, Buffer.alloc(4), v, BPF_ANY);
  }
}
