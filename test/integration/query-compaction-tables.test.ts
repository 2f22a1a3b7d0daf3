/**
 * The compaction's one source, two engines (local/athena-local/compaction.ts): the tokens, the
 * tables' columns against what their SELECTs give, the Athena statements, and the state machine the
 * deploy runs them with.
 */
import { SEAM_ONLY_INPUT } from '../../handlers/clients/sfn';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'node-sql-parser';
import {
  athenaCreateTable,
  athenaMerge,
  athenaStateMerge,
  ATHENA_TABLES,
  COMPACTED_TABLES,
  CompactionSqlError,
  COPY_COLUMNS,
  NOTHING_COMPACTED,
  RAW_EVENT_COLUMNS,
  readCompactionSql,
  renderTokens,
  SEAM_TOKENS,
  stateMachineDefinition,
  statesFormat,
  STATE_TABLE,
  tokensOf,
  WORKGROUP,
} from '../../local/athena-local/compaction';
import { openLocalAthena, viewFiles, type LocalAthena } from '../../local/athena-local/duckdb';
import { DEFAULT_OPTIONS } from '../../local/simulator/generate';
import { simulate } from '../../local/simulator/index';

// The plain-JS serverless resolver.
const { viewStatements } = require('../../scripts/cfn-athena.js') as { viewStatements: () => { Name: string; Sql: string }[] };

type State = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, string>;
  Next?: string;
  End?: boolean;
};

/** Evaluates States.Format the way Step Functions does: unescape the literal, fill each {} in order. */
function evalStatesFormat(expr: string, input: Record<string, string>): string {
  const m = /^States\.Format\('((?:[^'\\]|\\.)*)', (.+)\)$/s.exec(expr);
  if (!m) return expr;
  const args = m[2]!.split(', ').map((p) => input[p]!);
  let i = 0;
  return m[1]!.replace(/\\(.)|\{\}/g, (_whole, esc: string | undefined) => (esc !== undefined ? esc : args[i++]!));
}

describe('compaction SQL', () => {
  it('fills only known tokens, each with its shape: nothing else reaches the SQL', () => {
    expect(renderTokens("SELECT 1 FROM t WHERE dt = '{{dt}}'", { dt: '2026-11-05' })).toBe("SELECT 1 FROM t WHERE dt = '2026-11-05'");
    expect(() => renderTokens("WHERE dt = '{{dt}}'", { dt: "2026-11-05' OR '1'='1" })).toThrow(CompactionSqlError);
    expect(() => renderTokens("WHERE c >= '{{cutoff}}'", { cutoff: '2026-11-05' })).toThrow(/not of the form/);
    expect(() => renderTokens('{{nope}}', {})).toThrow(/unknown token/);
    expect(() => renderTokens("'{{dt}}'", {})).toThrow(/no value/);
  });

  it('uses the seam tokens in every view that joins compacted and raw, and nothing else', () => {
    const used = new Set(viewFiles().flatMap((f) => tokensOf(readFileSync(f, 'utf8'))));
    expect([...used].sort()).toEqual([...SEAM_TOKENS].sort());
    expect(Object.keys(NOTHING_COMPACTED).sort()).toEqual([...SEAM_TOKENS].sort());
  });

  it('events_dedup names the same columns, in the same order, on both sides of its UNION ALL as schema/columns.ts', () => {
    const sql = readFileSync(viewFiles().find((f) => f.endsWith('events_dedup.sql'))!, 'utf8').replace(/--[^\n]*/g, '');
    const compacted = /SELECT (c\..*?),\s+CAST\(1 AS BIGINT\) AS copy_no/s.exec(sql)?.[1];
    const raw = /SELECT (e\..*?),\s+row_number\(\)/s.exec(sql)?.[1];
    const names = (list: string | undefined, alias: string) => (list ?? '').split(',').map((x) => x.trim().replace(`${alias}.`, ''));
    expect(names(compacted, 'c')).toEqual(RAW_EVENT_COLUMNS.map((c) => c.name));
    expect(names(raw, 'e')).toEqual(RAW_EVENT_COLUMNS.map((c) => c.name));
    // The compacted table is those columns plus the copy counts, which only events_copies reads.
    expect(COMPACTED_TABLES[0]!.columns.map((c) => c.name)).toEqual([...RAW_EVENT_COLUMNS, ...COPY_COLUMNS].map((c) => c.name));
  });

  it('events_copies reads every copy column on its compacted side, and counts each raw row as one copy', () => {
    const sql = readFileSync(viewFiles().find((f) => f.endsWith('events_copies.sql'))!, 'utf8').replace(/--[^\n]*/g, '');
    for (const c of COPY_COLUMNS) expect(sql).toContain(`c.${c.name}`);
    expect(sql).toMatch(
      /CAST\(1 AS BIGINT\) AS copies, e\.is_bot, e\.bot_reason, e\.type, e\.visitor_hash,\s+e\.event_time, e\.received_at\s+FROM events e/,
    );
  });

  it('the views and sources parse as Trino SQL once filled', () => {
    const parser = new Parser();
    for (const f of viewFiles()) {
      const sql = renderTokens(readFileSync(f, 'utf8'), { ...NOTHING_COMPACTED }).replace(/^CREATE OR REPLACE VIEW \w+ AS/, '');
      expect(() => parser.astify(sql, { database: 'trino' })).not.toThrow();
    }
    for (const t of COMPACTED_TABLES) {
      expect(() =>
        parser.astify(renderTokens(readCompactionSql(t.source), { dt: '2026-11-05', cutoff: '2026-11-06T01:15:00.000Z' }), {
          database: 'trino',
        }),
      ).not.toThrow();
    }
  });

  it('creates Iceberg tables partitioned by arrival day (the state table unpartitioned)', () => {
    for (const t of ATHENA_TABLES) {
      const sql = athenaCreateTable(t, `s3://b/${t.name}/`);
      expect(sql).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS ${t.name} \\(`));
      expect(sql).toContain("'table_type' = 'ICEBERG'");
      expect(sql.includes('PARTITIONED BY (dt)')).toBe(t !== STATE_TABLE);
    }
  });

  it('merges on the table key with the day pinned, inserting events once and updating modelled rows', () => {
    const events = athenaMerge(COMPACTED_TABLES[0]!);
    expect(events).toMatch(/^MERGE INTO events_compacted t USING \(SELECT/);
    expect(events).toContain("ON t.dt = '{{dt}}' AND t.dt IS NOT DISTINCT FROM s.dt AND t.event_id IS NOT DISTINCT FROM s.event_id");
    // A kept row never changes; only its copy counts do, and only where a re-run counted more.
    expect(events).toContain(`WHEN MATCHED AND (t.copies IS DISTINCT FROM s.copies OR t.copies_is_bot IS DISTINCT FROM s.copies_is_bot`);
    expect(events).toMatch(
      /THEN UPDATE SET copies = s\.copies, copies_is_bot = s\.copies_is_bot, [^W]*copies_event_time = s\.copies_event_time WHEN NOT MATCHED/,
    );
    expect(events).not.toMatch(/UPDATE SET[^W]*\b(event_id|received_at|url) = /);
    const sessions = athenaMerge(COMPACTED_TABLES[1]!);
    expect(sessions).toContain('WHEN MATCHED THEN UPDATE SET anonymous_id = s.anonymous_id');
    expect(sessions).not.toMatch(/UPDATE SET[^W]*\bsession_id = /);
    expect(athenaStateMerge()).toContain("(SELECT count(*) FROM events_compacted c WHERE c.dt = '{{dt}}') AS events");
  });

  it('States.Format escapes the SQL so Step Functions gives back exactly the filled statement', () => {
    const sql = athenaMerge(COMPACTED_TABLES[0]!);
    const values = { dt: '2026-11-05', cutoff: '2026-11-06T01:15:00.000Z' };
    const expr = statesFormat(sql, { dt: '$.dt', cutoff: '$.cutoff' });
    expect(expr.startsWith("States.Format('MERGE INTO")).toBe(true);
    expect(evalStatesFormat(expr, { '$.dt': values.dt, '$.cutoff': values.cutoff })).toBe(renderTokens(sql, values).replace(/\s+/g, ' '));
  });
});

describe('the tables hold what their SELECTs give', () => {
  let dir: string;
  let db: LocalAthena;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-compaction-cols-'));
    simulate({ ...DEFAULT_OPTIONS, visitors: 20, days: 2, end: '2026-11-15', seed: 3 }, dir);
    db = await openLocalAthena(dir);
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(COMPACTED_TABLES.map((t) => [t.name, t] as const))('%s', async (_, t) => {
    const r = await db.run(
      `DESCRIBE ${renderTokens(readCompactionSql(t.source), { dt: '2026-11-15', cutoff: '2026-11-16T01:15:00.000Z' })}`,
    );
    const got = r.rows.map((row) => [String(row[0]), String(row[1])]);
    // events.sql adds copy_no (dropped by the MERGE's column list and by the local COPY).
    expect(got.filter(([n]) => n !== 'copy_no')).toEqual(t.columns.map((c) => [c.name, c.duck]));
  });
});

describe('the deployed state machine', () => {
  const def = stateMachineDefinition({ days: 3, marginMinutes: 15 }, viewStatements()) as {
    StartAt: string;
    States: Record<string, State>;
  };
  const days = def.States.Days as State & { ItemProcessor: { StartAt: string; States: Record<string, State> }; MaxConcurrency: number };
  const tasks = [...Object.values(def.States), ...Object.values(days.ItemProcessor.States)].filter((s) => s.Type === 'Task');

  it("runs every statement through the Athena integration in the stack's workgroup, retried, with no Lambda", () => {
    const athena = tasks.filter((s) => s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync');
    expect(athena.length).toBe(tasks.length - 2);
    expect(tasks.filter((s) => s.Resource !== athena[0]!.Resource).map((s) => s.Resource)).toEqual([
      'arn:aws:states:::athena:getQueryResults',
      'arn:aws:states:::athena:getQueryResults',
    ]);
    for (const s of athena) expect(s.Parameters?.WorkGroup).toBe(WORKGROUP);
    for (const s of tasks) expect(s.Retry).toBeDefined();
    expect(JSON.stringify(def)).not.toContain('lambda');
  });

  it('goes straight to the seam on {"seamOnly": true} (the deploy\'s run after re-creating the views), else compacts', () => {
    // The Choice rules this definition uses (And, IsPresent, BooleanEquals on a top-level path),
    // evaluated as the Amazon States Language defines them.
    type Rule = { And?: Rule[]; Variable?: string; IsPresent?: boolean; BooleanEquals?: boolean; Next?: string };
    const start = def.States[def.StartAt] as State & { Choices: Rule[]; Default: string };
    const holds = (r: Rule, input: Record<string, unknown>): boolean => {
      if (r.And) return r.And.every((x) => holds(x, input));
      const key = r.Variable!.replace(/^\$\./, '');
      if (r.IsPresent !== undefined) return key in input === r.IsPresent;
      return input[key] === r.BooleanEquals;
    };
    const next = (input: Record<string, unknown>) => start.Choices.find((r) => holds(r, input))?.Next ?? start.Default;
    expect(start.Type).toBe('Choice');
    expect(next(SEAM_ONLY_INPUT)).toBe('Seam');
    // The schedule's input (serverless.yml CompactionSchedule: '{}') and anything else compacts.
    expect(next({})).toBe('Plan');
    expect(next({ seamOnly: false })).toBe('Plan');
    expect(next({ seamOnly: 'true' })).toBe('Plan');
  });

  it("re-processes the last N closed days by Athena's clock, one day at a time, the state row last", () => {
    expect(def.States.Plan!.Parameters!.QueryString).toContain(
      "sequence(current_date - INTERVAL '3' DAY, current_date - INTERVAL '1' DAY)",
    );
    expect(days.MaxConcurrency).toBe(1);
    const order: string[] = [];
    for (let s: string | undefined = days.ItemProcessor.StartAt; s; s = days.ItemProcessor.States[s]!.Next) order.push(s);
    expect(order).toEqual([...COMPACTED_TABLES.map((t) => t.name), STATE_TABLE.name]);
    expect(days.ItemProcessor.States[STATE_TABLE.name]!.End).toBe(true);
  });

  it('ends by re-creating each view with the seam it just read', () => {
    const views = viewStatements();
    const seam = {
      '$.seam.row[0].VarCharValue': '2026-11-01',
      '$.seam.row[1].VarCharValue': '2026-11-20',
      '$.seam.row[2].VarCharValue': '2026-11-21T01:15:00.000Z',
      '$.seam.row[3].VarCharValue': '2026-11-21',
    };
    for (const v of views) {
      const q = def.States[`View ${v.Name}`]!.Parameters!;
      const sql = q['QueryString.$'] ?? q.QueryString!;
      const filled = {
        compacted_from: '2026-11-01',
        compacted_to: '2026-11-20',
        cutoff: '2026-11-21T01:15:00.000Z',
        raw_from: '2026-11-21',
      };
      expect(evalStatesFormat(sql, seam)).toBe(renderTokens(v.Sql, filled).replace(/\s+/g, ' '));
    }
    expect(() => stateMachineDefinition({ days: 0, marginMinutes: 15 }, views)).toThrow(/compactionDays/);
  });
});
