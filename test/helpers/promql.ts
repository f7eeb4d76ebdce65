// The metric names a PromQL expression reads, found by tokenizing it as
// PromQL does: string literals, label matchers `{...}`, range / subquery
// brackets `[...]`, grouping label lists after by / without / on / ignoring /
// group_left / group_right, function and aggregation calls, keywords and
// numbers are told apart, so only real series selectors remain. Grafana's
// template variables ($x, ${x}, [[x]]) are accepted where values go.

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2',
  'inf', 'nan', 'start', 'end',
]);
/** Aggregation operators: their grouping clause may come before the parenthesis (`sum by (x) (...)`). */
const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

type Token = { kind: 'ident' | 'string' | 'number' | 'punct' | 'var'; text: string };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') { // comment to end of line
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string at ${i} in ${expr}`);
      out.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$(\{[^}]+\}|\w+)/.exec(expr.slice(i));
      if (!m) throw new Error(`bad template variable at ${i} in ${expr}`);
      out.push({ kind: 'var', text: m[0] });
      i += m[0].length;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?([smhdwy]|ms)?|\.\d+)/.exec(expr.slice(i));
    if (num && !/[A-Za-z_:]/.test(expr[i + num[0].length] ?? '')) {
      out.push({ kind: 'number', text: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i));
    if (id) {
      out.push({ kind: 'ident', text: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}[\],@:])/.exec(expr.slice(i));
    if (!op) throw new Error(`unexpected '${c}' at ${i} in ${expr}`);
    out.push({ kind: 'punct', text: op[0] });
    i += op[0].length;
  }
  return out;
}

/** The metric names `expr` selects (in order of appearance, without repeats). */
export function promqlMetricNames(expr: string): string[] {
  const tokens = tokenize(expr);
  const names: string[] = [];
  let braces = 0;
  let brackets = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'punct') {
      if (t.text === '{') braces++;
      else if (t.text === '}') braces--;
      else if (t.text === '[') brackets++;
      else if (t.text === ']') brackets--;
      continue;
    }
    if (t.kind === 'ident' && braces > 0 && t.text === '__name__' && tokens[k + 1]?.text === '=' && tokens[k + 2]?.kind === 'string') {
      if (!names.includes(tokens[k + 2]!.text)) names.push(tokens[k + 2]!.text);
      continue;
    }
    if (t.kind !== 'ident' || braces > 0 || brackets > 0) continue;
    const next = tokens[k + 1];
    if (GROUPING.has(t.text) && next?.text === '(') {
      // A label list: skip to its closing parenthesis.
      while (k < tokens.length && tokens[k]!.text !== ')') k++;
      continue;
    }
    if (KEYWORDS.has(t.text.toLowerCase())) continue;
    if (next?.text === '(') continue; // a function or aggregation
    if (AGGREGATIONS.has(t.text) && (next?.text === 'by' || next?.text === 'without')) continue;
    if (!names.includes(t.text)) names.push(t.text);
  }
  return names;
}

/** The metric of a Grafana variable query `label_values(metric, label)` / `metrics(...)`, else the expression's. */
export function grafanaQueryMetricNames(query: string): string[] {
  const lv = /^\s*label_values\(\s*(.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.exec(query);
  if (lv) return promqlMetricNames(lv[1]!);
  const qr = /^\s*query_result\((.*)\)\s*$/.exec(query);
  if (qr) return promqlMetricNames(qr[1]!);
  return promqlMetricNames(query);
}
