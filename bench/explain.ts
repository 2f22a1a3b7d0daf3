/**
 * npx tsx bench/explain.ts --dir DIR --from YYYY-MM-DD --to YYYY-MM-DD [--query NAME ...] [--runs N] [--explain]
 *
 * Where a saved query's time goes on the local engine, over a data folder you already have
 * (`npm run simulate` and `npm run compact` with LOCAL_DATA_DIR=DIR): per query, wall time and the
 * process's CPU time (DuckDB's threads run in it; on a shared machine wall time grows with others'
 * load, CPU time much less), or with --explain DuckDB's EXPLAIN ANALYZE of the query with its
 * parameters filled in, over the raw days the runner would list (runSaved). The figures in
 * docs/queries.md "Where the time goes" come from it.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openLocalAthena, stripComments } from '../local/athena-local/duckdb';
import { loadQuery, queryNames, queryParams, runSaved, slackOf } from '../local/athena-local/queries';
import { DEMO_FUNNEL } from '../local/simulator/truth';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      query: { type: 'string', multiple: true },
      runs: { type: 'string', default: '3' },
      explain: { type: 'boolean' },
    },
  });
  if (!values.dir || !values.from || !values.to)
    throw new Error(
      'usage: npx tsx bench/explain.ts --dir DIR --from YYYY-MM-DD --to YYYY-MM-DD [--query NAME ...] [--runs N] [--explain]',
    );
  const { dir, from, to } = values;
  const t0 = performance.now();
  const db = await openLocalAthena(dir);
  process.stdout.write(`opened in ${(performance.now() - t0).toFixed(0)} ms\n`);
  try {
    for (const name of values.query ?? queryNames()) {
      const steps = name === 'funnel' ? DEMO_FUNNEL : [];
      if (values.explain) {
        const q = loadQuery(name);
        const params = queryParams(q, from, to, steps);
        const [lo, hi] = slackOf(from, to);
        const body = stripComments(q.sql);
        // As runSaved: list the raw days of the range first (a query naming `events` itself reads
        // the compacted days' raw objects too).
        await db.runInRange?.('SELECT 1', [], lo, hi, !/\bFROM\s+events\b(?!_)/i.test(body));
        let i = 0;
        // EXPLAIN ANALYZE takes no prepared parameters: the values are dates and step names from
        // this command line, quoted as SQL literals.
        const sql = body.replace(/\?/g, () => `'${params[i++]!.replace(/'/g, "''")}'`);
        const r = await db.connection.runAndReadAll(`EXPLAIN ANALYZE ${sql}`);
        process.stdout.write(`== ${name}\n${String(r.getRows()[0]?.[1] ?? '')}\n`);
        continue;
      }
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < Number(values.runs); i++) {
        const t = performance.now();
        const c = process.cpuUsage();
        await runSaved(db, name, from, to, steps);
        const used = process.cpuUsage(c);
        wall.push(performance.now() - t);
        cpu.push((used.user + used.system) / 1000);
      }
      process.stdout.write(
        `${name.padEnd(20)} wall ms ${wall.map((x) => x.toFixed(0)).join(' ')}  CPU ms ${cpu.map((x) => x.toFixed(0)).join(' ')}\n`,
      );
    }
  } finally {
    db.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`explain: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
