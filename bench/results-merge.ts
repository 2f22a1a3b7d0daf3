import type { Results } from './run';

/** The slow sections, each with the `npm run bench` flag that re-measures it. */
export const SLOW_SECTIONS = {
  browsing: 'browsing',
  e2e: 'e2e',
  sdk_cost: 'sdk-cost',
  queries_1m: 'queries',
  queries_dense: 'queries-dense',
  queries_10m: 'queries-10m',
  compacted_1m: 'compacted',
  compacted_10m: 'compacted-10m',
} as const;

/**
 * What to write: the sections this run measured, and every slow section it did not re-measure as
 * results.json holds it at write time (`onFile`), not as it was when this run started. A slow run
 * takes up to half an hour and another run (of another section) may write in between: the file
 * used to be written whole from the start-time copy, so the later writer dropped the other's
 * figures. The cost section goes with the browsing section it priced; figures derived from several
 * sections (the analyst's) are the caller's to derive again.
 */
export function mergeForWrite(ran: Results, onFile: Partial<Results>, flags: Readonly<Record<string, unknown>>): Results {
  const out: Results = { ...ran };
  for (const [key, flag] of Object.entries(SLOW_SECTIONS) as [keyof typeof SLOW_SECTIONS, string][]) {
    if (flags[flag] !== true && onFile[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = onFile[key];
  }
  // The cost model prices the browsing run's events per request: when another run wrote a newer
  // browsing section meanwhile, its cost section (priced from it) comes along.
  if (out.browsing !== ran.browsing && JSON.stringify(out.browsing) !== JSON.stringify(ran.browsing) && onFile.cost) {
    out.cost = onFile.cost;
    if (onFile.cost_per_million_events_usd !== undefined) out.cost_per_million_events_usd = onFile.cost_per_million_events_usd;
  }
  return out;
}
