import type { Statement, Word } from './ast.js';
import { describePos, type Diagnostics } from './errors.js';
import { container, one, type Container, type Shape } from './schema-types.js';
import { activeChildren, child, valueOf } from './tree.js';
import { checkName, parseNumber } from './values.js';

/**
 * `routing-instances RI { instance-type virtual-router; table-id N; }`: the routing
 * instances a firewall filter's `then routing-instance RI` sends a flow to (policy-based
 * routing). xdpfw configures no routes: the kernel owns them, and each instance is a kernel
 * routing table (`ip route add ... table N`) that the route lookup of such a flow uses,
 * in the slow path and in XDP (bpf_fib_lookup with BPF_FIB_LOOKUP_TBID).
 *
 * `table-id N` is xdpfw's own statement (Junos has none: its instances own their routes);
 * it is required. Tables 0 (unspec), 253 (default), 254 (main) and 255 (local) are the
 * kernel's own and cannot be an instance's; two instances cannot share a table.
 * `instance-type` is required: `virtual-router` or `forwarding` (Junos's filter-based
 * forwarding instance type), which mean the same here.
 */

export type RoutingInstanceType = 'virtual-router' | 'forwarding';

export interface RoutingInstance {
  name: string;
  type: RoutingInstanceType;
  /** Kernel routing table id (1-4294967295 except 253-255). */
  tableId: number;
}

const INSTANCE_TYPES: readonly RoutingInstanceType[] = ['virtual-router', 'forwarding'];
const RESERVED_TABLES: ReadonlyMap<number, string> = new Map([
  [0, 'unspec'],
  [253, 'default'],
  [254, 'main'],
  [255, 'local'],
]);
const U32_MAX = 0xffffffff;

/**
 * A container that takes any statements, nested as deep as they come: `routing-options`
 * holds Junos route configuration, which is read only to be refused with a clear message.
 */
function anything(): Container {
  const shape = container({});
  (shape as { wildcard?: { label: string; shape: Shape } }).wildcard = { label: 'statement', shape };
  return shape;
}

export const ROUTING_INSTANCES_SCHEMA: Container = container(
  {},
  {
    wildcard: {
      label: 'routing instance name',
      shape: container(
        {
          description: one('description text'),
          'instance-type': one('instance type'),
          'table-id': one('kernel routing table id'),
          'routing-options': anything(),
        },
        // interface, protocols, route-distinguisher, ...: a Junos VRF's, which the kernel routes here.
        { unique: 'routing-instance', others: 'ignored' },
      ),
    },
  },
);

export function compileRoutingInstances(root: readonly Statement[], d: Diagnostics): Map<string, RoutingInstance> {
  const out = new Map<string, RoutingInstance>();
  const tables = new Map<number, Word>();
  const owner = new Map<number, string>();
  for (const ri of activeChildren(child(root, 'routing-instances')?.children)) {
    const name = ri.words[0];
    const named = checkName(d, name, 'routing instance name');
    const type = child(ri.children, 'instance-type');
    let ok = named;
    let instanceType: RoutingInstanceType = 'virtual-router';
    if (!type) {
      d.error(name.pos, `routing instance '${name.text}' needs 'instance-type virtual-router'`);
      ok = false;
    } else {
      const w = valueOf(type);
      const found = INSTANCE_TYPES.find((t) => t === w.text);
      if (found) instanceType = found;
      else {
        d.error(w.pos, `unsupported instance-type '${w.text}': xdpfw supports ${INSTANCE_TYPES.join(' and ')} (a kernel routing table)`);
        ok = false;
      }
    }
    const options = child(ri.children, 'routing-options');
    if (options) {
      d.error(
        options.pos,
        `'routing-options' in routing instance '${name.text}' is not supported: xdpfw configures no routes; add them to the instance's kernel table (ip route add ... table N, with N its table-id)`,
      );
      ok = false;
    }
    const table = child(ri.children, 'table-id');
    let tableId: number | null = null;
    if (!table) {
      d.error(name.pos, `routing instance '${name.text}' needs 'table-id N': the kernel routing table that holds its routes`);
      ok = false;
    } else {
      const w = valueOf(table);
      tableId = parseNumber(d, w, 'table-id', 1, U32_MAX);
      const reserved = tableId === null ? undefined : RESERVED_TABLES.get(tableId);
      if (tableId !== null && reserved !== undefined) {
        d.error(w.pos, `table-id ${tableId} is the kernel's '${reserved}' table; a routing instance needs a table of its own`);
        tableId = null;
      }
      if (tableId !== null) {
        const prev = tables.get(tableId);
        if (prev) {
          d.error(w.pos, `table-id ${tableId} is already the table of routing instance '${owner.get(tableId)}' (${describePos(prev.pos, w.pos)})`);
          tableId = null;
        } else {
          tables.set(tableId, w);
          owner.set(tableId, name.text);
        }
      }
      if (tableId === null) ok = false;
    }
    // A failed instance still defines its name, so references to it are not reported too.
    out.set(name.text, { name: name.text, type: instanceType, tableId: ok && tableId !== null ? tableId : 0 });
  }
  return out;
}
