/**
 * Trino typing traps in a saved query: expressions that DuckDB (the local engine) and Trino (Athena
 * engine version 3) both accept but type differently, so the same file gives other numbers on
 * Athena than locally, without an error on either side.
 *
 *   - `/` on two integers truncates in Trino (`7 / 2` is 3); DuckDB's `/` gives 3.5.
 *   - A literal such as `1000.0` is DECIMAL(5,1) in Trino, and `bigint / DECIMAL(p,1)` has scale
 *     max(0, 1) = 1: a latency in milliseconds divided by `1000.0` comes back rounded to 0.1 s.
 *     DuckDB converts the same division to DOUBLE. (Trino docs, "Decimal functions and
 *     operators": a literal's scale is its count of fractional digits; `x / y` has scale
 *     max(xs, ys).)
 *   - Comparing the VARCHAR partition column `dt` with a DATE fails on Trino (no implicit cast)
 *     while DuckDB casts silently.
 *
 * The rule it enforces is deliberately stricter than Trino's typing: every division must be
 * provably DOUBLE (an operand CAST to DOUBLE, an avg(), a DOUBLE column or literal), and no decimal
 * literal takes part in arithmetic, so a later edit of one operand cannot change the result type.
 * The local engine also runs with DuckDB's `integer_division` setting (see openEngine), but a
 * static check is the only guard for the decimal case, which DuckDB cannot mimic.
 */
import { Parser } from 'node-sql-parser';
import { EVENT_COLUMNS, PARTITION_COLUMNS, REJECT_COLUMNS, type GlueType } from '../../schema/columns';

export type SqlType = 'double' | 'integer' | 'decimal' | 'varchar' | 'date' | 'timestamp' | 'boolean' | 'interval' | 'unknown';

export interface TypeTrap {
  rule: 'division-not-double' | 'decimal-literal-arithmetic' | 'dt-not-varchar';
  message: string;
}

type Node = Record<string, unknown>;

const GLUE: Record<GlueType, SqlType> = { string: 'varchar', bigint: 'integer', int: 'integer', boolean: 'boolean', double: 'double' };

/** Types of the Glue columns by name: the tables the saved queries read. */
export function schemaColumnTypes(): Map<string, SqlType> {
  const m = new Map<string, SqlType>();
  for (const c of [...EVENT_COLUMNS, ...REJECT_COLUMNS, ...PARTITION_COLUMNS]) {
    const t = GLUE[c.type];
    // A name typed differently by two tables is ambiguous without scopes: leave it unknown.
    m.set(c.name, m.has(c.name) && m.get(c.name) !== t ? 'unknown' : t);
  }
  return m;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function castType(target: unknown): SqlType {
  const t = Array.isArray(target) ? (target[0] as Node | undefined)?.dataType : undefined;
  const name = String(t ?? '').toUpperCase();
  if (['DOUBLE', 'REAL', 'FLOAT'].includes(name)) return 'double';
  if (['BIGINT', 'INTEGER', 'INT', 'SMALLINT', 'TINYINT'].includes(name)) return 'integer';
  if (name === 'DECIMAL') return 'decimal';
  if (name === 'VARCHAR' || name === 'CHAR') return 'varchar';
  if (name === 'DATE') return 'date';
  if (name.startsWith('TIMESTAMP')) return 'timestamp';
  if (name === 'BOOLEAN') return 'boolean';
  return 'unknown';
}

/** Trino's type of a numeric literal: 7 is integer, 7.0 DECIMAL(2,1), 7e0 DOUBLE. */
function literalType(value: unknown): SqlType {
  const text = String(value);
  if (/[eE]/.test(text)) return 'double';
  if (text.includes('.')) return 'decimal';
  return 'integer';
}

const isDecimalLiteral = (n: Node) => (n.type === 'number' || n.type === 'bigint') && literalType(n.value) === 'decimal';

function columnName(n: Node): string | undefined {
  const c = n.column;
  if (typeof c === 'string') return c;
  const v = isNode(c) && isNode(c.expr) ? c.expr.value : undefined;
  return typeof v === 'string' ? v : undefined;
}

function functionName(n: Node): string {
  if (typeof n.name === 'string') return n.name.toLowerCase();
  const parts = isNode(n.name) && Array.isArray(n.name.name) ? (n.name.name as Node[]) : [];
  return String(parts[parts.length - 1]?.value ?? '').toLowerCase();
}

function args(n: Node): Node[] {
  const a = n.args;
  if (isNode(a) && Array.isArray(a.value)) return a.value.filter(isNode);
  if (isNode(a) && isNode(a.expr)) return [a.expr];
  return [];
}

const numeric = (t: SqlType) => t === 'double' || t === 'integer' || t === 'decimal';

/** Result type of + - * / in Trino for two operand types. */
function arithmetic(op: string, l: SqlType, r: SqlType): SqlType {
  if ((l === 'date' || l === 'timestamp') && r === 'interval') return l;
  if (l === 'interval' && (r === 'date' || r === 'timestamp')) return r;
  if (op === '*' && (l === 'interval' || r === 'interval')) return 'interval';
  if (!numeric(l) || !numeric(r)) return 'unknown';
  if (l === 'double' || r === 'double') return 'double';
  if (l === 'decimal' || r === 'decimal') return 'decimal';
  return 'integer';
}

const INTEGER_FUNCTIONS = new Set([
  'date_diff',
  'count_if',
  'hour',
  'minute',
  'second',
  'day',
  'month',
  'year',
  'day_of_week',
  'week',
  'row_number',
  'rank',
  'dense_rank',
  'length',
  'strpos',
  'cardinality',
]);
const SAME_AS_FIRST_ARG = new Set([
  'round',
  'abs',
  'coalesce',
  'nullif',
  'arbitrary',
  'any_value',
  'min',
  'max',
  'approx_percentile',
  'floor',
  'ceil',
  'lag',
  'lead',
  'first_value',
  'last_value',
]);

export class TypeScope {
  constructor(readonly columns: Map<string, SqlType>) {}

  typeOf(n: unknown): SqlType {
    if (!isNode(n)) return 'unknown';
    switch (n.type) {
      case 'number':
      case 'bigint':
        return literalType(n.value);
      case 'single_quote_string':
        return 'varchar';
      case 'bool':
      case 'boolean':
        return 'boolean';
      case 'interval':
        return 'interval';
      case 'cast':
        return castType(n.target);
      case 'column_ref': {
        const name = columnName(n);
        return (name === undefined ? undefined : this.columns.get(name)) ?? 'unknown';
      }
      case 'unary_expr':
        return this.typeOf(n.expr);
      case 'case': {
        const results = (Array.isArray(n.args) ? n.args : []).filter(isNode).map((a) => this.typeOf(a.result));
        const known = results.filter((t) => t !== 'unknown');
        if (known.length === 0) return 'unknown';
        if (known.every((t) => t === known[0])) return known[0]!;
        return known.reduce<SqlType>((a, b) => arithmetic('+', a, b), known[0]!);
      }
      case 'binary_expr': {
        const op = String(n.operator);
        if (['+', '-', '*', '/', '%'].includes(op)) return arithmetic(op, this.typeOf(n.left), this.typeOf(n.right));
        if (op === '||') return 'varchar';
        return 'boolean';
      }
      case 'aggr_func':
      case 'function': {
        const name = functionName(n);
        const a = args(n);
        if (name === 'count' || INTEGER_FUNCTIONS.has(name)) return 'integer';
        // avg(integer) is DOUBLE in Trino; avg(decimal) stays DECIMAL.
        if (name === 'avg') return this.typeOf(a[0]) === 'decimal' ? 'decimal' : 'double';
        if (name === 'sum') return this.typeOf(a[0]);
        if (name === 'to_unixtime') return 'double';
        if (name === 'from_iso8601_timestamp' || name === 'date_trunc') return name === 'date_trunc' ? this.typeOf(a[1]) : 'timestamp';
        if (SAME_AS_FIRST_ARG.has(name)) return this.typeOf(a[0]);
        return 'unknown';
      }
      default:
        return 'unknown';
    }
  }
}

/** Every object below `root`, depth first. */
function* nodes(root: unknown): Generator<Node> {
  if (Array.isArray(root)) {
    for (const v of root) yield* nodes(v);
  } else if (isNode(root)) {
    yield root;
    for (const v of Object.values(root)) yield* nodes(v);
  }
}

/** Output columns of every SELECT (CTEs included) and their types, iterated to a fixed point. */
function aliasTypes(ast: unknown, base: Map<string, SqlType>): Map<string, SqlType> {
  const types = new Map(base);
  for (let pass = 0; pass < 5; pass++) {
    const scope = new TypeScope(types);
    let changed = false;
    for (const n of nodes(ast)) {
      if (n.type !== 'select' || !Array.isArray(n.columns)) continue;
      for (const c of n.columns.filter(isNode)) {
        if (typeof c.as !== 'string') continue;
        const t = scope.typeOf(c.expr);
        const before = types.get(c.as);
        // The same alias typed two ways in two CTEs: unknown, so a division by it is flagged.
        const next = before === undefined || before === t || base.get(c.as) === before ? t : 'unknown';
        if (next !== before) {
          types.set(c.as, next);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return types;
}

const show = (n: Node) => String(n.type === 'number' ? n.value : (columnName(n) ?? (functionName(n) || String(n.type))));

/** The typing traps in one Trino SELECT (comments allowed), as messages naming the expression. */
export function trinoTypeTraps(sql: string, columns: Map<string, SqlType> = schemaColumnTypes()): TypeTrap[] {
  const ast = new Parser().astify(sql, { database: 'trino' });
  const scope = new TypeScope(aliasTypes(ast, columns));
  const traps: TypeTrap[] = [];
  for (const n of nodes(ast)) {
    if (n.type !== 'binary_expr') continue;
    const op = String(n.operator);
    const left = isNode(n.left) ? n.left : {};
    const right = isNode(n.right) ? n.right : {};
    if (['+', '-', '*', '/', '%'].includes(op)) {
      for (const side of [left, right]) {
        if (isDecimalLiteral(side)) {
          traps.push({
            rule: 'decimal-literal-arithmetic',
            message: `decimal literal ${String(side.value)} in ${op}: Trino types it DECIMAL (scale ${String(side.value).split('.')[1]!.length}), DuckDB mixes it as DOUBLE; write an integer or CAST the other operand AS DOUBLE`,
          });
        }
      }
    }
    if (op === '/') {
      const t = scope.typeOf(n);
      if (t !== 'double') {
        traps.push({
          rule: 'division-not-double',
          message: `${show(left)} / ${show(right)} is ${t} division in Trino (${scope.typeOf(left)} / ${scope.typeOf(right)}); CAST one operand AS DOUBLE`,
        });
      }
    }
    // dt is the VARCHAR partition key: compared with a DATE, Trino fails and DuckDB casts.
    const isDt = (x: Node) => x.type === 'column_ref' && columnName(x) === 'dt';
    if (['=', '<', '>', '<=', '>=', '<>', '!=', 'BETWEEN', 'IN'].includes(op.toUpperCase()) && (isDt(left) || isDt(right))) {
      const other = isDt(left) ? right : left;
      const others = other.type === 'expr_list' && Array.isArray(other.value) ? other.value.filter(isNode) : [other];
      for (const o of others) {
        const t = scope.typeOf(o);
        if (t !== 'varchar' && !(o.type === 'column_ref' && columnName(o) === 'dt')) {
          traps.push({
            rule: 'dt-not-varchar',
            message: `dt (VARCHAR) compared with ${t} ${show(o)}: Trino has no implicit cast; compare with a string`,
          });
        }
      }
    }
  }
  return traps;
}
