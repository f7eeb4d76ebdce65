// How the slow path shows its drops to a packet-drop watcher (lib/monitor):
// `active` is tested on every drop, `note` called only while it is true.
export interface SlowPathDropTap {
  readonly active: boolean;
  /** frame: the dropped frame (its first bytes are enough); stage: where the slow path was. */
  note(frame: Uint8Array, length: number, ifindex: number, stage: string, reason: string, rule: string | null): void;
}

/** Nobody watches. */
export const IDLE_DROP_TAP: SlowPathDropTap = { active: false, note: () => {} };
