/**
 * The prices moved to local/prices.ts, where both the local stack (the Athena cost of a query) and
 * the benchmarks can import them (local/ never imports bench/). Kept for bench/queries.ts and
 * test/unit/bench-cost.test.ts until they import local/prices directly.
 */
export * from '../local/prices';
