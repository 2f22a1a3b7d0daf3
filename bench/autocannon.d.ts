/**
 * The part of autocannon 9's API bench/e2e.ts uses (the package ships no types and @types/autocannon
 * is not a dependency).
 */
declare module 'autocannon' {
  interface RequestSpec {
    method?: string;
    setupRequest?: (req: Record<string, unknown>, context: Record<string, unknown>) => Record<string, unknown>;
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    maxOverallRequests?: number;
    timeout?: number;
    requests?: RequestSpec[];
  }
  interface Histogram {
    p50: number;
    p90: number;
    p97_5: number;
    p99: number;
    max: number;
    average: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: Histogram & { sent: number; total: number };
    latency: Histogram;
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
