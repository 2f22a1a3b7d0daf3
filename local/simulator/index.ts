/**
 * The simulator as a library: generate -> real pipeline -> Firehose-shaped objects, plus the
 * ground truth. local/simulate.ts is its command line; tests call simulate() directly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromEnv } from '../../handlers/lib/pipeline';
import { readIngestStreams } from '../serverless-config';
import { runPipeline, writeObjects, EVENTS_PREFIX, REJECTS_PREFIX, type Deliveries } from './deliver';
import { generate, type SimOptions, type SimRequest } from './generate';
import { DEMO_FUNNEL, TRUTH, type Row, type TruthInput } from './truth';

/** A fixed local salt secret: visitor hashes are then reproducible too. Never used on AWS. */
export const SIMULATOR_SALT_SECRET = 'local-simulator-visitor-salt';

export interface Progress {
  start(total: number, label: string): void;
  /** `total` when it becomes known after start. */
  update(done: number, total?: number): void;
  stop(): void;
}
const silent: Progress = { start() {}, update() {}, stop() {} };

export interface SimulationResult {
  requests: SimRequest[];
  deliveries: Deliveries;
  truthInput: TruthInput;
  objects: { events: number; rejects: number };
}

/** The delivery stream names of a stage, from serverless.yml (the objects are named after them). */
export function streamNames(stage: string) {
  const { events, rejects } = readIngestStreams(stage);
  return { events: events.name, rejects: rejects.name };
}

/** Generates, runs the pipeline and writes objects under dataDir. */
export function simulate(opts: SimOptions, dataDir: string, stage = 'dev', progress: Progress = silent): SimulationResult {
  progress.start(opts.visitors, 'visitors');
  const { requests, botVisitors, botReasons, visitorCountries } = generate(opts, (n) => progress.update(n));
  progress.stop();
  const config = configFromEnv({ ...process.env, VISITOR_SALT_SECRET: process.env.VISITOR_SALT_SECRET ?? SIMULATOR_SALT_SECRET });
  progress.start(requests.length, 'requests');
  const deliveries = runPipeline(requests, opts.siteId, config, (n) => progress.update(n));
  progress.stop();
  const streams = streamNames(stage);
  progress.start(0, 'objects');
  const events = writeObjects(dataDir, EVENTS_PREFIX, streams.events, deliveries.events, (n, total) => progress.update(n, total));
  progress.stop();
  progress.start(0, 'rejects');
  const rejects = writeObjects(dataDir, REJECTS_PREFIX, streams.rejects, deliveries.rejects, (n, total) => progress.update(n, total));
  progress.stop();
  const objects = { events, rejects };
  const truthInput: TruthInput = {
    events: deliveries.events,
    rejects: deliveries.rejects.map((d) => d.row),
    botVisitors,
    botReasons,
    visitorCountries,
  };
  return { requests, deliveries, truthInput, objects };
}

export function rangeOf(opts: SimOptions): { from: string; to: string } {
  const to = opts.end;
  const from = new Date(Date.parse(`${opts.end}T00:00:00Z`) - (opts.days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

/** Every query's expected answer over the whole simulated range (funnel: the demo funnel). */
export function truthFor(input: TruthInput, range: { from: string; to: string }): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};
  for (const [name, fn] of Object.entries(TRUTH)) out[name] = fn(input, { ...range, steps: DEMO_FUNNEL });
  return out;
}

export function writeTruth(dataDir: string, opts: SimOptions, result: SimulationResult): string {
  const range = rangeOf(opts);
  const dir = join(dataDir, 'simulation');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `truth-${opts.end}-${opts.days}d-seed${opts.seed}.json`);
  const d = result.deliveries;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        options: opts,
        range,
        funnel_steps: DEMO_FUNNEL,
        summary: {
          requests: result.requests.length,
          stored_rows: d.events.length,
          distinct_events: new Set(d.events.map((e) => e.row.event_id)).size,
          reject_rows: d.rejects.length,
          bot_visitors: result.truthInput.botVisitors.size,
          status_counts: d.statusCounts,
          objects: result.objects,
        },
        queries: truthFor(result.truthInput, range),
      },
      null,
      1,
    )}\n`,
  );
  return file;
}
