// The nat-* fields of a translated session's events (RT_FLOW_SESSION_CREATE / CLOSE, JSON).
import type { EventNat } from '../events/types.js';
import { describeKey } from '../session/flow-key.js';
import type { NatSessions } from './nat-sessions.js';

/** The event fields of a session's translation, or undefined when it is not translated. */
export function eventNat(nat: NatSessions | null, sessionId: number): EventNat | undefined {
  const t = nat?.of(sessionId);
  if (!t) return undefined;
  const out = describeKey(t.translated);
  return {
    sourceAddress: out.sourceAddress,
    sourcePort: out.sourcePort,
    destinationAddress: out.destinationAddress,
    destinationPort: out.destinationPort,
    sourceRuleType: 'source rule',
    sourceRuleName: t.translation.rule.name,
    destinationRuleType: null,
    destinationRuleName: null,
  };
}
