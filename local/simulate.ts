/**
 * npm run simulate -- [--days 30] [--visitors 5000] [--seed 42] [--end YYYY-MM-DD]
 *                     [--bots 0.06] [--duplicates 0.04] [--rejects 0.01] [--late 0.03]
 *                     [--clean] [--api http://127.0.0.1:PORT]
 *
 * Writes seeded, reproducible traffic for the demo restaurant into LOCAL_DATA_DIR exactly as
 * Firehose would, plus the ground truth (simulation/truth-*.json). With --api it replays the same
 * requests through the running HTTP API instead (no ground truth: the server picks the times).
 * --clean first removes events/, rejects/, simulation/ and compacted/ (npm run compact) under LOCAL_DATA_DIR.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { DEFAULT_OPTIONS, generate, type SimOptions } from './simulator/generate';
import { replay } from './simulator/replay';
import { simulate, writeTruth, type Progress } from './simulator/index';

const USAGE =
  'usage: npm run simulate -- [--days N] [--visitors N] [--seed N] [--end YYYY-MM-DD] [--bots F] [--duplicates F] [--rejects F] [--late F] [--clean] [--api URL]';

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function barProgress(): Progress {
  let bar: SingleBar | undefined;
  let started = 0;
  return {
    start(total, label) {
      bar = new SingleBar(
        {
          format: `${label.padEnd(8)} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
          // Without a TTY (CI logs) print a line every 2 s instead of redrawing.
          noTTYOutput: true,
          notTTYSchedule: 2000,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      started = Date.now();
      bar.start(total || 1, 0, { rate: 0 });
    },
    update(done, total) {
      if (!bar) return;
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
      // Average since the start: steadier than an instantaneous rate for a bursty generator.
      bar.update(done, { rate: Math.round((done * 1000) / Math.max(1, Date.now() - started)) });
    },
    stop() {
      bar?.stop();
    },
  };
}

async function replayToApi(opts: SimOptions, api: URL, progress: Progress) {
  const { requests } = generate(opts);
  progress.start(requests.filter((r) => !r.firehoseCopy).length, 'requests');
  const r = await replay(requests, api, opts.siteId, { onProgress: (n) => progress.update(n) });
  progress.stop();
  process.stdout.write(
    `replayed ${r.sent} requests to ${api.origin}: ${r.accepted} events accepted; statuses ${JSON.stringify(r.statuses)} (0 = network error)\n`,
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      days: { type: 'string' },
      visitors: { type: 'string' },
      seed: { type: 'string' },
      end: { type: 'string' },
      bots: { type: 'string' },
      duplicates: { type: 'string' },
      rejects: { type: 'string' },
      late: { type: 'string' },
      api: { type: 'string' },
      stage: { type: 'string' },
      clean: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (v: string | undefined, fallback: number, name: string, min: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const end = values.end ?? yesterday;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(end) || Number.isNaN(Date.parse(end))) fail(`--end must be a date YYYY-MM-DD, got ${end}`);
  const opts: SimOptions = {
    ...DEFAULT_OPTIONS,
    end,
    // The API rejects events older than 30 days: a replay must stay inside that.
    days: Math.floor(num(values.days, DEFAULT_OPTIONS.days, 'days', 1, values.api ? 29 : 366)),
    visitors: Math.floor(num(values.visitors, DEFAULT_OPTIONS.visitors, 'visitors', 1, 10_000_000)),
    seed: Math.floor(num(values.seed, DEFAULT_OPTIONS.seed, 'seed', 0, 2 ** 32 - 1)),
    botShare: num(values.bots, DEFAULT_OPTIONS.botShare, 'bots', 0, 1),
    duplicateShare: num(values.duplicates, DEFAULT_OPTIONS.duplicateShare, 'duplicates', 0, 1),
    rejectShare: num(values.rejects, DEFAULT_OPTIONS.rejectShare, 'rejects', 0, 1),
    lateShare: num(values.late, DEFAULT_OPTIONS.lateShare, 'late', 0, 1),
  };
  const progress = barProgress();
  if (values.api) {
    let api: URL;
    try {
      api = new URL(values.api);
    } catch {
      fail(`--api must be a URL like http://127.0.0.1:3000, got ${values.api}`);
    }
    await replayToApi(opts, api, progress);
    return;
  }
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? '.data');
  if (values.clean) {
    // Only what the simulator writes: a second run without --clean stores every event twice (the queries de-duplicate).
    // compacted/ (npm run compact) is derived from events/: left behind it would answer for the old events.
    for (const sub of ['events', 'rejects', 'simulation', 'compacted']) rmSync(join(dataDir, sub), { recursive: true, force: true });
  }
  const started = Date.now();
  const result = simulate(opts, dataDir, values.stage ?? process.env.STAGE ?? 'dev', progress);
  const truthFile = writeTruth(dataDir, opts, result);
  const d = result.deliveries;
  process.stdout.write(
    [
      `simulated ${opts.visitors} visitors over ${opts.days} days ending ${opts.end} (seed ${opts.seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  ${result.requests.length} requests -> ${d.events.length} stored rows (${new Set(d.events.map((e) => e.row.event_id)).size} distinct events), ${d.rejects.length} rejects`,
      `  ${result.objects.events + result.objects.rejects} objects under ${dataDir}`,
      `  ground truth: ${truthFile}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`simulate: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
