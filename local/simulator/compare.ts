/**
 * Compares a query's answer with the ground truth: same columns in the same order, same rows in
 * the same order, counts exact, rounded columns within one unit of their last printed place.
 */
import type { ResultSet } from '../athena-local/duckdb';
import type { Row } from './truth';

export const ROUNDED: Record<string, number> = {
  bounce_rate: 1e-4,
  avg_session_seconds: 0.1,
  pages_per_session: 0.01,
  avg_time_spent_seconds: 0.01,
  p50_latency_seconds: 0.001,
  p95_latency_seconds: 0.001,
};

/** Differences, one line each; empty when the answer is right. */
export function diffRows(name: string, got: ResultSet, want: Row[]): string[] {
  const problems: string[] = [];
  const wantCols = Object.keys(want[0] ?? {});
  if (want.length > 0 && got.columns.join(',') !== wantCols.join(','))
    problems.push(`${name}: columns ${got.columns.join(',')} != ${wantCols.join(',')}`);
  if (got.rows.length !== want.length) problems.push(`${name}: ${got.rows.length} rows, truth has ${want.length}`);
  want.forEach((w, i) => {
    const g = got.rows[i];
    if (!g) return;
    got.columns.forEach((c, j) => {
      const a = g[j];
      const b = w[c];
      const tol = ROUNDED[c];
      const same = tol !== undefined && typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= tol + 1e-9 : a === b;
      if (!same) problems.push(`${name} row ${i} ${c}: query ${JSON.stringify(a)} != truth ${JSON.stringify(b)}`);
    });
  });
  return problems;
}
