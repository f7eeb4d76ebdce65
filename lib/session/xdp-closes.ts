// SESSION_CLOSE records XDP writes when it closes a TCP session (bpf/tcp_state.h)
// reach the session table before anyone else: the table shortens the session's
// wait to the closing timeout, and the record goes on to the event sinks only
// if the session's policy logs session-close. XDP writes one for every close,
// logged or not, so the table learns of each close at once.
import type { EventProducer } from '../events/producer.js';
import type { EventNat, SecurityEvent } from '../events/types.js';
import type { SessionTable } from './table.js';

export function closesFromXdp(
  sessions: SessionTable, events: Pick<EventProducer, 'emit'>,
  /** The nat-* fields of a translated session (undefined: not translated). */
  natOf: (sessionId: number) => EventNat | undefined = () => undefined,
): { emit(ev: SecurityEvent): void } {
  return {
    emit(ev: SecurityEvent): void {
      if (ev.kind === 'session-close') {
        const session = sessions.closedInDataplane(ev.sessionId);
        if (!session?.logClose) return;
        const translated = natOf(ev.sessionId);
        if (translated) ev.nat = translated;
      }
      events.emit(ev);
    },
  };
}
