/**
 * The compaction's SQL, one source for both engines: athena-queries/compaction/*.sql (and the views
 * they read) hold the SELECTs; this module fills their tokens and wraps each one for its engine:
 *
 *   Athena (the deployed state machine, scripts/cfn-compaction.js)  MERGE INTO <Iceberg table>
 *     USING (<select>) ON <its key> ..., which makes a re-run insert or update, never duplicate
 *     (Athena user guide, "MERGE INTO": transactional, Iceberg tables, engine version 3).
 *   DuckDB (npm run compact, local/compact.ts)  COPY (<select>) TO <the day's Parquet object>,
 *     replacing the day whole; DuckDB has no Iceberg writer, and a whole-day rewrite from the same
 *     raw rows is as idempotent as the MERGE.
 *
 * The tables' columns are derived here (events_compacted from schema/columns.ts; the others from
 * the SELECTs' output, pinned by test/integration/query-compaction-tables.test.ts), and so are the Glue tables.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../schema/columns';

// Not from ./duckdb, which imports this module (the local engine renders the views with the seam).
export const COMPACTION_DIR = resolve(__dirname, '../../athena-queries/compaction');
/** As duckdb.ts stripComments: `--` comments out, no final `;`. */
const stripComments = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, '')
    .trim()
    .replace(/;\s*$/, '');

/** Hive DDL type, as Glue takes it, and the DuckDB type of the same column. */
export interface TableColumn {
  name: string;
  hive: string;
  duck: string;
}

const HIVE_TO_DUCK: Record<string, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  boolean: 'BOOLEAN',
  double: 'DOUBLE',
  'array<string>': 'VARCHAR[]',
};
const col = (name: string, hive: string): TableColumn => ({ name, hive, duck: HIVE_TO_DUCK[hive]! });

/** The raw events' columns in the order `events e` gives them (`e.*`): the schema, then dt, hour. */
export const RAW_EVENT_COLUMNS: readonly TableColumn[] = [
  ...EVENT_COLUMNS.map((c) => col(c.name, c.type)),
  ...PARTITION_COLUMNS.map((c) => col(c.name, c.type)),
];

/**
 * What the compaction keeps of the copies it merges into one row (athena-queries/compaction/events.sql),
 * so data_quality (through the events_copies view) gives from the compacted table what it gives from
 * the raw objects: the number of raw copies of the event that day, and the aggregates data_quality
 * takes over all copies (which may differ: an SDK re-send gets its own received_at and skew
 * correction, and the bot layers judge each request). Each combines across days and across the
 * seam's cutoff by sum, bool_or, max or min.
 */
export const COPY_COLUMNS: readonly TableColumn[] = [
  col('copies', 'bigint'),
  col('copies_is_bot', 'boolean'),
  col('copies_bot_reason', 'string'),
  col('copies_type', 'string'),
  col('copies_visitor_hash', 'string'),
  col('copies_event_time', 'string'),
];

export const EVENTS_COMPACTED_COLUMNS: readonly TableColumn[] = [...RAW_EVENT_COLUMNS, ...COPY_COLUMNS];

export interface CompactedTable {
  name: string;
  /** The SELECT producing one arrival day of the table, athena-queries/compaction/<file>. */
  source: string;
  columns: readonly TableColumn[];
  /** MERGE key: a source row matches the stored row with the same values. dt is always in it. */
  key: readonly string[];
  /** insert: rows never change once written (events); upsert: a late event changes the row. */
  mode: 'insert' | 'upsert';
  /**
   * insert mode: columns a re-run still updates, only where they changed (the copy counts of events:
   * a copy of the day received after the last cutoff adds to them, the kept row stays).
   */
  refresh?: readonly string[];
}

export const COMPACTED_TABLES: readonly CompactedTable[] = [
  {
    name: 'events_compacted',
    source: 'events.sql',
    columns: EVENTS_COMPACTED_COLUMNS,
    key: ['dt', 'event_id'],
    mode: 'insert',
    refresh: COPY_COLUMNS.map((c) => c.name),
  },
  {
    name: 'sessions_compacted',
    source: 'sessions.sql',
    key: ['dt', 'session_id', 'is_bot'],
    mode: 'upsert',
    columns: [
      col('dt', 'string'),
      col('session_id', 'string'),
      col('is_bot', 'boolean'),
      col('anonymous_id', 'string'),
      col('started_time', 'string'),
      col('ended_time', 'string'),
      col('page_view_ids', 'array<string>'),
      col('engaged', 'boolean'),
      col('landing_key', 'string'),
      col('landing_path', 'string'),
      col('landing_source', 'string'),
      col('landing_medium', 'string'),
      col('landing_campaign', 'string'),
      col('exit_key', 'string'),
      col('exit_path', 'string'),
      col('device_type', 'string'),
      col('browser', 'string'),
      col('os', 'string'),
      // Last: added after the first deploys, and ALTER TABLE ... ADD COLUMNS appends (docs/operations.md).
      col('page_views', 'bigint'),
    ],
  },
  {
    name: 'daily_visitors',
    source: 'daily_visitors.sql',
    key: ['dt', 'event_date', 'anonymous_id', 'is_bot'],
    mode: 'upsert',
    columns: [
      col('dt', 'string'),
      col('event_date', 'string'),
      col('anonymous_id', 'string'),
      col('is_bot', 'boolean'),
      col('sessions', 'bigint'),
      col('page_views', 'bigint'),
      col('events', 'bigint'),
      col('first_time', 'string'),
      col('last_time', 'string'),
    ],
  },
];

/**
 * One row per compacted arrival day, written after the day's tables (so a row means all of them
 * are stored). raw_fingerprint: locally the raw objects' count and bytes when the day was
 * compacted (a changed day is compacted again); NULL on AWS, where the schedule re-processes the
 * last N days instead.
 */
export const STATE_TABLE = {
  name: 'compaction_state',
  columns: [
    col('dt', 'string'),
    col('cutoff', 'string'),
    col('compacted_at', 'string'),
    col('events', 'bigint'),
    col('raw_fingerprint', 'string'),
  ] as readonly TableColumn[],
};

/** The seam the views read, from compaction_state (athena-queries/compaction/seam.sql). */
export interface Seam {
  compacted_from: string;
  compacted_to: string;
  cutoff: string;
  raw_from: string;
}
export const NOTHING_COMPACTED: Seam = {
  compacted_from: '9999-12-31',
  compacted_to: '0000-00-00',
  cutoff: '9999-12-31T00:00:00.000Z',
  raw_from: '0000-00-00',
};
/** The seam's tokens, in the order seam.sql returns them. */
export const SEAM_TOKENS = ['compacted_from', 'compacted_to', 'cutoff', 'raw_from'] as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Every token the SQL files use, with the only shape its value may have (nothing else reaches SQL). */
const TOKENS: Record<string, RegExp> = {
  compacted_from: DAY,
  compacted_to: DAY,
  cutoff: INSTANT,
  raw_from: DAY,
  dt: DAY,
  compacted_at: INSTANT,
  raw_fingerprint: /^[0-9a-z:]{1,64}$/,
};

export class CompactionSqlError extends Error {
  override name = 'CompactionSqlError';
}

/** The `{{name}}` tokens of a SQL text, in order of appearance (repeats included). */
export function tokensOf(sql: string): string[] {
  return [...stripComments(sql).matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1]!);
}

/**
 * Fills the tokens of `sql` (comments stripped). Each value must have its token's shape: the
 * values come from our own clock and state, but a quote in one would still be SQL.
 */
export function renderTokens(sql: string, values: Record<string, string>): string {
  const body = stripComments(sql);
  return body.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const shape = TOKENS[name];
    const v = values[name];
    if (!shape) throw new CompactionSqlError(`unknown token {{${name}}}`);
    if (v === undefined) throw new CompactionSqlError(`no value for {{${name}}}`);
    if (!shape.test(v)) throw new CompactionSqlError(`{{${name}}}: '${v}' is not of the form ${shape}`);
    return v;
  });
}

export const readCompactionSql = (file: string): string => readFileSync(join(COMPACTION_DIR, file), 'utf8');

const names = (cols: readonly TableColumn[], prefix = '') => cols.map((c) => `${prefix}${c.name}`).join(', ');

/**
 * Athena: the MERGE that stores one day of `table` from its source SELECT (tokens left in, for the
 * caller to fill: the state machine through States.Format, tests through renderTokens). The ON
 * clause also pins the target's dt to the day, so the target scan is pruned to one partition.
 */
export function athenaMerge(table: CompactedTable): string {
  const src = stripComments(readCompactionSql(table.source));
  const on = [`t.dt = '{{dt}}'`, ...table.key.map((k) => `t.${k} IS NOT DISTINCT FROM s.${k}`)].join(' AND ');
  const insert = `WHEN NOT MATCHED THEN INSERT (${names(table.columns)}) VALUES (${names(table.columns, 's.')})`;
  const set = (cols: readonly string[]) => cols.map((c) => `${c} = s.${c}`).join(', ');
  // WHEN MATCHED AND <condition>: only rows whose counts moved are rewritten, so re-processing the
  // last N days does not write a delete file for every row (Athena user guide, "MERGE INTO").
  const refresh = table.refresh ?? [];
  const update =
    table.mode === 'upsert'
      ? `WHEN MATCHED THEN UPDATE SET ${set(table.columns.filter((c) => !table.key.includes(c.name)).map((c) => c.name))} `
      : refresh.length > 0
        ? `WHEN MATCHED AND (${refresh.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(' OR ')}) THEN UPDATE SET ${set(refresh)} `
        : '';
  return `MERGE INTO ${table.name} t USING (${src}) s ON ${on} ${update}${insert}`;
}

/** Athena: records the day as compacted (after its tables), with its cutoff. */
export function athenaStateMerge(): string {
  const cols = STATE_TABLE.columns;
  const src =
    `SELECT '{{dt}}' AS dt, '{{cutoff}}' AS cutoff, '{{compacted_at}}' AS compacted_at, ` +
    `(SELECT count(*) FROM events_compacted c WHERE c.dt = '{{dt}}') AS events, CAST(NULL AS VARCHAR) AS raw_fingerprint`;
  return (
    `MERGE INTO ${STATE_TABLE.name} t USING (${src}) s ON t.dt = s.dt ` +
    `WHEN MATCHED THEN UPDATE SET ${cols
      .filter((c) => c.name !== 'dt')
      .map((c) => `${c.name} = s.${c.name}`)
      .join(', ')} ` +
    `WHEN NOT MATCHED THEN INSERT (${names(cols)}) VALUES (${names(cols, 's.')})`
  );
}

/** DuckDB: the SELECT whose rows become the day's Parquet object (the table's columns, in order). */
export function duckSelect(table: CompactedTable, values: Record<string, string>): string {
  // Not stored in the object: dt is its folder (hive partitioning), as on S3.
  const cols = table.columns.filter((c) => c.name !== 'dt');
  const order = table.name === 'events_compacted' ? ' ORDER BY event_time, event_id' : '';
  return `SELECT ${cols.map((c) => `CAST(s.${c.name} AS ${c.duck}) AS ${c.name}`).join(', ')} FROM (${renderTokens(readCompactionSql(table.source), values)}) s${order}`;
}

/** DuckDB: a table over its Parquet objects, columns in the declared order (dt from the folder). */
export function duckTableView(table: { name: string; columns: readonly TableColumn[] }, glob: string | undefined): string {
  if (glob === undefined) {
    // Nothing compacted yet: an empty table with the right columns keeps every view valid.
    return `CREATE OR REPLACE VIEW ${table.name} AS SELECT ${table.columns.map((c) => `CAST(NULL AS ${c.duck}) AS ${c.name}`).join(', ')} WHERE false`;
  }
  // By name, over an empty row of every column: an object written before a column was added reads
  // it as NULL, as Iceberg reads a data file older than ALTER TABLE ... ADD COLUMNS (the views
  // handle those NULLs), also when no object has the column yet.
  const empty = table.columns.map((c) => `CAST(NULL AS ${c.duck}) AS ${c.name}`).join(', ');
  return (
    `CREATE OR REPLACE VIEW ${table.name} AS SELECT ${names(table.columns)} FROM (SELECT ${empty} WHERE false UNION ALL BY NAME ` +
    `SELECT * FROM read_parquet('${glob.replace(/'/g, "''")}', hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true))`
  );
}

/**
 * Athena: the Iceberg table the state machine merges into, partitioned by arrival day (the
 * compaction state by nothing: a row per day). `{{location}}` is the table's S3 folder. Run by the
 * deploy (Custom::AthenaViews, before the views that read it). IF NOT EXISTS: a redeploy keeps the
 * data; a column added to the schema later needs an ALTER TABLE ... ADD COLUMNS (docs/operations.md).
 * Athena user guide, "Create Iceberg tables": CREATE TABLE with table_type ICEBERG and PARTITIONED BY.
 */
export function athenaCreateTable(table: { name: string; columns: readonly TableColumn[] }, location: string): string {
  const partitioned = table.columns.some((c) => c.name === 'dt') && table.name !== STATE_TABLE.name;
  return (
    `CREATE TABLE IF NOT EXISTS ${table.name} (${table.columns.map((c) => `${c.name} ${c.hive}`).join(', ')})` +
    `${partitioned ? ' PARTITIONED BY (dt)' : ''} LOCATION '${location}'` +
    // Parquet with ZSTD is Athena engine 3's default for Iceberg (Athena user guide, "Use Iceberg
    // table compression"): what npm run compact writes locally too.
    ` TBLPROPERTIES ('table_type' = 'ICEBERG')`
  );
}

/** The tables of the compaction, in the order the deploy creates them. */
export const ATHENA_TABLES = [...COMPACTED_TABLES, STATE_TABLE] as const;

/**
 * One value of an intrinsic function's string literal: `'`, `{`, `}` and `\` are escaped with a
 * backslash (Step Functions developer guide, "Intrinsic functions": reserved characters).
 */
const intrinsicLiteral = (s: string) => s.replace(/[\\'{}]/g, (c) => `\\${c}`);

/**
 * `States.Format('<sql with {} for each token>', <JSONPath of each token>...)`: how the state
 * machine fills a statement's tokens at run time. Whitespace is collapsed (comments are gone already).
 */
export function statesFormat(sql: string, paths: Record<string, string>): string {
  const body = stripComments(sql).replace(/\s+/g, ' ');
  const args: string[] = [];
  const parts = body.split(/\{\{([a-z_]+)\}\}/);
  let template = '';
  parts.forEach((p, i) => {
    if (i % 2 === 0) template += intrinsicLiteral(p);
    else {
      const path = paths[p];
      if (!path) throw new CompactionSqlError(`no JSONPath for {{${p}}}`);
      template += '{}';
      args.push(path);
    }
  });
  return args.length === 0 ? body : `States.Format('${template}', ${args.join(', ')})`;
}

/** The state machine's placeholders, replaced by the deploy (scripts/cfn-compaction.js). */
export const WORKGROUP = '@@WORKGROUP@@';

export interface CompactionPlan {
  /** Closed days re-processed by each run: the last `days` before the run's UTC date. */
  days: number;
  /** The cutoff is the run's start minus this (rows still in a Firehose buffer stay raw). */
  marginMinutes: number;
}

/**
 * The Step Functions state machine (Amazon States Language, JSONPath) that compacts on AWS: one
 * Athena statement per step through the optimized integration `athena:startQueryExecution.sync`
 * (Step Functions developer guide, "Run Athena queries with Step Functions": the .sync pattern waits
 * for the query; GetQueryResults is request-response), no Lambda:
 *   Plan     which days (the last N closed ones) and the cutoff, computed by Athena from its clock
 *   Days     per day, in order (MaxConcurrency 1: one Iceberg writer at a time): events, sessions,
 *            daily_visitors MERGEs, then the compaction_state row (written last, as locally)
 *   Seam     reads compaction_state (seam.sql) and re-creates the views with the new seam
 * An input of {"seamOnly": true} goes straight to Seam (state Start): the deploy starts such a run
 * after it re-created the views with the "nothing compacted" seam (handlers/athena-views.ts,
 * Custom::CompactionSeam). It writes no table, so it may overlap a scheduled run.
 * Every statement is idempotent, so a failed step is retried, then the execution fails, which the
 * ExecutionsFailed alarm reports (serverless.yml CompactionFailedAlarm).
 */
export function stateMachineDefinition(plan: CompactionPlan, views: readonly { Name: string; Sql: string }[]): Record<string, unknown> {
  if (!Number.isInteger(plan.days) || plan.days < 1 || plan.days > 90)
    throw new CompactionSqlError(`compactionDays must be an integer from 1 to 90, got ${plan.days}`);
  if (!Number.isInteger(plan.marginMinutes) || plan.marginMinutes < 1)
    throw new CompactionSqlError(`the cutoff margin must be a positive whole number of minutes, got ${plan.marginMinutes}`);
  const retry = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 4 }];
  const athena = (query: string, next: string | undefined, resultPath: string | null = null) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
    Parameters: { [query.startsWith('States.Format(') ? 'QueryString.$' : 'QueryString']: query, WorkGroup: WORKGROUP },
    ResultPath: resultPath,
    Retry: retry,
    ...(next ? { Next: next } : { End: true }),
  });
  const results = (from: string, next: string, selector: Record<string, string>, resultPath: string) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::athena:getQueryResults',
    Parameters: { 'QueryExecutionId.$': `${from}.QueryExecution.QueryExecutionId` },
    ResultSelector: selector,
    ResultPath: resultPath,
    Retry: retry,
    Next: next,
  });
  const day = { dt: '$.dt', cutoff: '$.cutoff', compacted_at: '$.compacted_at' };
  // Athena's clock (UTC in Athena) decides the days, so the literals in each statement are dates
  // partition projection can prune on while planning.
  const planSql =
    `SELECT CAST(d AS VARCHAR) AS dt, date_format(current_timestamp - INTERVAL '${plan.marginMinutes}' MINUTE, '%Y-%m-%dT%H:%i:%s') || '.000Z' AS cutoff ` +
    `FROM UNNEST(sequence(current_date - INTERVAL '${plan.days}' DAY, current_date - INTERVAL '1' DAY)) AS t(d) ORDER BY 1`;
  const seamPaths = Object.fromEntries(SEAM_TOKENS.map((t, i) => [t, `$.seam.row[${i}].VarCharValue`]));
  const viewStates = Object.fromEntries(
    views.map((v, i) => [
      `View ${v.Name}`,
      athena(statesFormat(v.Sql, seamPaths), views[i + 1] ? `View ${views[i + 1]!.Name}` : undefined),
    ]),
  );
  return {
    Comment:
      'Compacts the last closed days of raw events into Iceberg tables and moves the views\' seam (issue 13; docs/operations.md "Compaction").',
    StartAt: 'Start',
    States: {
      Start: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.seamOnly', IsPresent: true },
              { Variable: '$.seamOnly', BooleanEquals: true },
            ],
            Next: 'Seam',
          },
        ],
        Default: 'Plan',
      },
      Plan: athena(planSql, 'Plan rows', '$.plan'),
      'Plan rows': results('$.plan', 'Days', { 'rows.$': '$.ResultSet.Rows[1:]' }, '$.days'),
      Days: {
        Type: 'Map',
        ItemsPath: '$.days.rows',
        MaxConcurrency: 1,
        ItemSelector: {
          'dt.$': '$$.Map.Item.Value.Data[0].VarCharValue',
          'cutoff.$': '$$.Map.Item.Value.Data[1].VarCharValue',
          'compacted_at.$': '$$.Execution.StartTime',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: COMPACTED_TABLES[0]!.name,
          States: {
            ...Object.fromEntries(
              COMPACTED_TABLES.map((t, i) => [
                t.name,
                athena(statesFormat(athenaMerge(t), day), COMPACTED_TABLES[i + 1]?.name ?? STATE_TABLE.name),
              ]),
            ),
            [STATE_TABLE.name]: athena(statesFormat(athenaStateMerge(), day), undefined),
          },
        },
        ResultPath: null,
        Next: 'Seam',
      },
      Seam: athena(stripComments(readCompactionSql('seam.sql')).replace(/\s+/g, ' '), 'Seam row', '$.seamQuery'),
      'Seam row': results('$.seamQuery', `View ${views[0]!.Name}`, { 'row.$': '$.ResultSet.Rows[1].Data' }, '$.seam'),
      ...viewStates,
    },
  };
}
