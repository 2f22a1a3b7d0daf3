/**
 * npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--step X ...] [--out FILE]
 *
 * Runs the main saved queries on the local data (DuckDB over LOCAL_DATA_DIR) and renders one
 * self-contained HTML page, by default <LOCAL_DATA_DIR>/report.html (the demo site links to
 * /report.html). Default range: the 30 days ending today (UTC).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openLocalAthena, LocalDataError, type ResultSet } from './athena-local/duckdb';
import { checkDate, runSaved, QueryUsageError, MAX_FUNNEL_STEPS } from './athena-local/queries';
import { REPORT_QUERIES, renderReport, type ReportQuery } from './report/render';
import { DEMO_FUNNEL } from './simulator/truth';

const USAGE = 'usage: npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--step X ...] [--out FILE]';

export interface ReportOptions {
  dataDir: string;
  from: string;
  to: string;
  steps?: string[];
  out?: string;
  now?: Date;
}

/** Runs the queries and writes the page; returns its path. */
export async function buildReport(o: ReportOptions): Promise<string> {
  const steps = o.steps && o.steps.length > 0 ? o.steps : DEMO_FUNNEL;
  const db = await openLocalAthena(o.dataDir);
  const results = {} as Record<ReportQuery, ResultSet>;
  try {
    for (const name of REPORT_QUERIES) results[name] = await runSaved(db, name, o.from, o.to, name === 'funnel' ? steps : []);
  } finally {
    db.close();
  }
  const out = o.out ?? join(o.dataDir, 'report.html');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderReport({
    title: 'Osteria del Porto — clickstream report', from: o.from, to: o.to, funnelSteps: steps,
    generatedAt: (o.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'), source: 'local DuckDB over the saved Athena queries', results,
  }));
  return out;
}

async function main(): Promise<number> {
  try {
    const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, step: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const to = checkDate('to', values.to ?? new Date().toISOString().slice(0, 10));
    const from = checkDate('from', values.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10));
    if ((values.step ?? []).length > MAX_FUNNEL_STEPS) throw new QueryUsageError(`at most ${MAX_FUNNEL_STEPS} --step values`);
    const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? '.data');
    const file = await buildReport({ dataDir, from, to, steps: values.step, out: values.out && resolve(values.out) });
    process.stdout.write(`report for ${from} to ${to}: ${file}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`report: ${(e as Error).message}\n${e instanceof QueryUsageError ? `${USAGE}\n` : ''}`);
    return e instanceof QueryUsageError ? 2 : e instanceof LocalDataError ? 1 : 1;
  }
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; });
}
