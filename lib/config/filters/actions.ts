import type { Statement, Word } from '../ast.js';
import { describePos } from '../errors.js';
import type { Family } from '../family.js';
import type { RoutingInstance } from '../routing-instances.js';
import { child, eachOf, valueOf } from '../tree.js';
import { checkName } from '../values.js';
import type { TermContext } from './context.js';
import { FILTER_REJECT_REASONS, type FilterAction, type FilterRejectReason, type Policer } from './model.js';

/** A term's `then`: its action, reject reason, log/syslog and counter. */

/** The reasons of each family (Junos's lists for `family inet` and `family inet6`). */
const REJECT_REASONS: Readonly<Record<Family, readonly FilterRejectReason[]>> = {
  inet: FILTER_REJECT_REASONS.filter((r) => !['no-route', 'address-unreachable', 'beyond-scope'].includes(r)),
  inet6: ['tcp-reset', 'administratively-prohibited', 'no-route', 'address-unreachable', 'beyond-scope', 'port-unreachable'],
};
/** Junos has it; xdpfw's reject cannot send it (it needs the next-hop MTU). */
export const FRAGMENTATION_NEEDED = 'fragmentation-needed';

export interface CompiledThen {
  action: FilterAction;
  rejectReason: FilterRejectReason | null;
  log: boolean;
  syslog: boolean;
  countWord: Word | null;
  routingInstance: RoutingInstance | null;
  policer: string | null;
}

const TERMINATING = ['accept', 'discard', 'reject', 'routing-instance'];

export function compileThen(
  then: Statement | undefined, ctx: TermContext, instances: ReadonlyMap<string, RoutingInstance>, policers: ReadonlyMap<string, Policer>,
): CompiledThen {
  const { d, family } = ctx;
  const kids = then?.children;
  const out: CompiledThen = { action: 'accept', rejectReason: null, log: false, syslog: false, countWord: null, routingInstance: null, policer: null };
  const actions = eachOf(kids, TERMINATING);
  if (actions.length > 1) {
    const [a, b] = actions;
    d.error(b.pos, `'${b.words[0].text}' conflicts with '${a.words[0].text}' at ${describePos(a.pos, b.pos)}: a term takes one of accept, discard, reject and routing-instance`);
  }
  const action = actions[0];
  switch (action?.words[0].text) {
    case undefined:
    case 'accept':
      break;
    case 'discard':
      out.action = 'discard';
      break;
    case 'reject': {
      out.action = 'reject';
      out.rejectReason = 'tcp-reset';
      const w = action.words[1];
      if (!w) break;
      const allowed = REJECT_REASONS[family];
      const reason = allowed.find((r) => r === w.text);
      if (reason) out.rejectReason = reason;
      else if (w.text === FRAGMENTATION_NEEDED) d.error(w.pos, `'reject ${FRAGMENTATION_NEEDED}' is not supported: the reply would need the next-hop MTU`);
      else d.error(w.pos, `'${w.text}' is not a family ${family} reject reason; expected one of: ${allowed.join(', ')}`);
      break;
    }
    case 'routing-instance': {
      const w = valueOf(action);
      const ri = instances.get(w.text);
      if (ri) out.routingInstance = ri;
      else d.error(w.pos, `unknown routing instance '${w.text}': define it with 'routing-instances ${w.text} { instance-type virtual-router; table-id N; }'`);
      break;
    }
  }
  out.log = child(kids, 'log') !== undefined;
  out.syslog = child(kids, 'syslog') !== undefined;
  const count = child(kids, 'count');
  if (count && checkName(d, valueOf(count), 'counter name')) out.countWord = valueOf(count);
  const policer = child(kids, 'policer');
  if (policer) {
    const w = valueOf(policer);
    if (!policers.has(w.text)) d.error(w.pos, `unknown policer '${w.text}': define it with 'firewall policer ${w.text} { if-exceeding { bandwidth-limit R; burst-size-limit B; } then discard; }'`);
    else if (out.action === 'discard' || out.action === 'reject') d.error(policer.pos, `'policer ${w.text}' in term '${ctx.term}' of filter '${ctx.filter}' would never pass a packet: the term ${out.action}s every packet it matches`);
    else out.policer = w.text;
  }
  return out;
}
