/**
 * `npx tsx local/reliability.ts [--quick]`: runs the reliability proofs (hostile-input catalogue,
 * handler fuzzing, faults at size, crash/restart, load, the SDK's delivery across tab closes in
 * Chromium) and writes docs/reliability.md from the
 * figures those very runs produced. Every row names the command that produced it; a failing test
 * fails this script (exit code 1) and nothing is written.
 *   --quick   smaller fault/crash/load runs (1,000 events, 20 connections x 10 s, 100 SDK tries): a smoke test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const out = mkdtempSync(join(tmpdir(), 'clickstream-reliability-'));

interface JestJson {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { ancestorTitles: string[]; title: string; status: string }[] }[];
}

/** Runs jest on one file with the given env; returns its JSON report (throws if a test failed). */
function jest(file: string, env: Record<string, string> = {}): { json: JestJson; command: string } {
  const envText = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const command = `${envText ? `${envText} ` : ''}npx jest ${file}`;
  const jsonFile = join(out, `${file.replace(/\W+/g, '_')}.json`);
  console.log(`> ${command}`);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), file, '--runInBand', '--json', `--outputFile=${jsonFile}`],
    {
      cwd: root,
      env: { ...process.env, ...env, RELIABILITY_OUT: out },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 120 * 60_000, // the SDK delivery run (1,000 tries in Chromium) takes about 40 minutes
    },
  );
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as JestJson;
  if (r.status !== 0 || !json.success)
    throw new Error(`${command} failed (${json.numFailedTests} failing tests): not writing docs/reliability.md`);
  console.log(`  passed ${json.numPassedTests} tests in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { json, command };
}

const figures = <T>(name: string): T => JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as T;
const n = (x: number) => x.toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

interface FaultFigures {
  sent: number;
  batches: number;
  sends: number;
  accepted: number;
  gaveUp: number;
  networkFaults: Record<string, number>;
  statuses: Record<string, number>;
  storedRows: number;
  storedUnique: number;
  lost: number;
  dedupRows: number;
  dedupCountedTwice: number;
  pageViewsCounted: number;
  firehoseFailedRecords?: number;
  crashes?: number;
  firehoseFaults: { throttle: number; partial: number };
}
interface DeliveryMode {
  events: number;
  delivered: number;
  duplicated_in_raw_rows: number;
  delivered_pct: number | null;
}
interface DeliveryFigures {
  tries: number;
  failing_first_tries: number;
  failing_unseen_tries: number;
  events_per_try: number;
  offline: DeliveryMode;
  failing: DeliveryMode;
  'failing-first': DeliveryMode;
  'failing-first-acked': DeliveryMode;
}
interface LoadFigures {
  connections: number;
  durationSec: number;
  eventsPerBatch: number;
  api: {
    requests: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    errorRate: number;
    latencyMs: { p50: number; p95: number; p99: number; max: number };
    requestsPerSec: number;
    statuses: Record<string, number>;
    eventsAccepted: number;
  };
  eventsOnDisk: number;
  uniqueOnDisk: number;
  lostAccepted: number;
  inProcess: { requests: number; events: number; latencyMs: { p50: number; p95: number; p99: number }; requestsPerSec: number };
}

function main() {
  const size: Record<string, string> = quick ? { FAULT_EVENTS: '1000', LOAD_CONNECTIONS: '20', LOAD_SECONDS: '10' } : {};
  const hostile = jest('test/unit/hostile-inputs.test.ts');
  const fuzz = jest('test/unit/handler-fuzz.test.ts');
  const faults = jest('test/long/faults.test.ts', { LONG_TESTS: '1', ...size });
  const load = jest('test/long/load.test.ts', { LONG_TESTS: '1', ...size });
  const delivery = jest('test/long/sdk-delivery.test.ts', {
    LONG_TESTS: '1',
    ...(quick ? { SDK_DELIVERY_TRIES: '100', SDK_DELIVERY_FIRST_TRIES: '5' } : {}),
  });

  const results = (j: JestJson) => j.testResults.flatMap((t) => t.assertionResults);
  const hostileCases = results(hostile.json).filter((a) => a.ancestorTitles.some((t) => t.includes('through processRequest'))).length;
  // Run counts are in the test titles ("(2,500 runs)"), the same literals that set numRuns.
  const fuzzRuns = results(fuzz.json).reduce((s, a) => s + Number(/\(([\d,]+) runs\)/.exec(a.title)?.[1]?.replace(/,/g, '') ?? 0), 0);
  const f = figures<FaultFigures>('faults');
  const c = figures<FaultFigures>('crash');
  const l = figures<LoadFigures>('load');
  const d = figures<DeliveryFigures>('sdk-delivery');
  const kept = {
    events: d.offline.events + d.failing.events,
    delivered: d.offline.delivered + d.failing.delivered,
    dup: d.offline.duplicated_in_raw_rows + d.failing.duplicated_in_raw_rows,
  };
  const modeRow = (name: string, what: string, m: DeliveryMode) =>
    `| ${name} | ${what} | ${n(m.events)} | ${n(m.delivered)} | ${m.delivered_pct ?? '-'} % | ${n(m.duplicated_in_raw_rows)} |`;
  const net = (x: FaultFigures) => Object.values(x.networkFaults).reduce((a, b) => a + b, 0);
  const faultText = (x: FaultFigures) =>
    `Firehose throttle ${x.firehoseFaults.throttle * 100} % of calls + ${x.firehoseFaults.partial * 100} % of records failed${x.firehoseFailedRecords !== undefined ? ` (${n(x.firehoseFailedRecords)} records refused)` : ''}; ${n(net(x))} of ${n(x.sends)} sends failed at the network (${Object.entries(
      x.networkFaults,
    )
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')})`;

  const rows = [
    [
      'hostile-input catalogue',
      `${n(hostileCases)} hand-written hostile requests, each through processRequest and the Lambda handler`,
      'none (malformed input is the fault)',
      '-',
      '0 valid events dropped; 0 5xx; 0 rejections without a reason',
      '-',
      `\`${hostile.command}\``,
    ],
    [
      'handler fuzzing',
      `${n(fuzzRuns)} generated requests (fast-check)`,
      'random and mutated bodies, bytes, content types, origins',
      '-',
      '0 valid events dropped; never threw',
      '-',
      `\`${fuzz.command}\``,
    ],
    [
      'faults at size',
      `${n(f.sent)} page views in ${n(f.batches)} batches of 20`,
      faultText(f),
      `8 concurrent clients retrying like the SDK (${n(f.sends)} sends)`,
      `${n(f.lost)} (${n(f.storedUnique)} of ${n(f.accepted)} accepted ids on disk)`,
      `${n(f.pageViewsCounted - f.sent + f.dedupCountedTwice)} (${n(f.storedRows)} rows stored, ${n(f.dedupRows)} in events_dedup, daily_active_users page_views = ${n(f.pageViewsCounted)})`,
      `\`${faults.command}\` (first test)`,
    ],
    [
      'crash and restart',
      `${n(c.sent)} page views`,
      `stack killed with SIGKILL ${c.crashes} times mid-traffic, restarted on the same folder; ${faultText(c)}`,
      `4 concurrent clients (${n(c.sends)} sends)`,
      `${n(c.lost)} (${n(c.storedUnique)} of ${n(c.accepted)} accepted ids on disk)`,
      `${n(c.pageViewsCounted - c.sent + c.dedupCountedTwice)} (${n(c.storedRows)} rows stored, ${n(c.dedupRows)} in events_dedup, page_views = ${n(c.pageViewsCounted)})`,
      `\`${faults.command}\` (second test)`,
    ],
    [
      'SDK delivery across tab closes (real Chromium)',
      `${n(d.tries)} tries x ${d.events_per_try} events, tracked then the tab closes; the next page load must deliver them`,
      'in turn: browser offline, or the API answering 503 (every Firehose call failing) after the page saw a failure',
      'one tab at a time',
      `${n(kept.events - kept.delivered)} (${n(kept.delivered)} of ${n(kept.events)} delivered; the case the SDK cannot see is below)`,
      `- (no query run); ${n(kept.dup)} extra copies on disk, which the events_dedup view drops`,
      `\`${delivery.command}\``,
    ],
    [
      'load',
      `${n(l.api.requests)} requests x ${l.eventsPerBatch} events, unique ids`,
      'none',
      `${l.connections} connections for ${l.durationSec} s: ${n(Math.round(l.api.requestsPerSec))} req/s; error rate ${(l.api.errorRate * 100).toFixed(2)} %; p50 ${ms(l.api.latencyMs.p50)}, p95 ${ms(l.api.latencyMs.p95)}, p99 ${ms(l.api.latencyMs.p99)}`,
      `${n(l.lostAccepted)} (${n(l.api.eventsAccepted)} accepted; ${n(l.uniqueOnDisk)} on disk, the difference from requests in flight when the run stopped)`,
      `${n(l.eventsOnDisk - l.uniqueOnDisk)} stored twice`,
      `\`${load.command}\``,
    ],
  ];
  const table = [
    '| check | inputs tried | faults injected | load held | events lost | counted twice | command |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

  const doc = `# Reliability: figures

Written by \`npx tsx local/reliability.ts${quick ? ' --quick' : ''}\` from the runs below (${new Date().toISOString().slice(0, 10)}, Node ${process.version},
${cpus().length} CPU cores, load average ${loadavg()[0]!.toFixed(1)} when it finished: other jobs shared the machine, so read
the latencies as an upper bound). Each row is one test file; the figures are the ones that run
measured and asserted, not typed in. The tests fail when an event is lost or counted twice.

${table}

"Events lost" compares the event_ids the client got a 200 for with the rows in the gzip objects on
disk (Firehose's S3 layout). "Counted twice" is what the saved query \`daily_active_users\` (run on
DuckDB over those objects, through the \`events_dedup\` view) reports beyond the events sent.
Copies on disk are expected: a send dropped after the request left, a Firehose partial failure
retried, or a crash between storing and answering makes the client send the same events again;
the view keeps one row per event_id.

## Load, in detail

| | requests | events | req/s | p50 | p95 | p99 | max | non-2xx | errors | timeouts |
|---|---|---|---|---|---|---|---|---|---|---|
| API (autocannon -> serverless offline -> handler -> Firehose stand-in) | ${n(l.api.requests)} | ${n(l.api.requests * l.eventsPerBatch)} | ${n(Math.round(l.api.requestsPerSec))} | ${ms(l.api.latencyMs.p50)} | ${ms(l.api.latencyMs.p95)} | ${ms(l.api.latencyMs.p99)} | ${ms(l.api.latencyMs.max)} | ${n(l.api.non2xx)} | ${n(l.api.errors)} | ${n(l.api.timeouts)} |
| handler pipeline alone, in-process (parse, validate, enrich, pack; same bodies) | ${n(l.inProcess.requests)} | ${n(l.inProcess.events)} | ${n(Math.round(l.inProcess.requestsPerSec))} | ${ms(l.inProcess.latencyMs.p50)} | ${ms(l.inProcess.latencyMs.p95)} | ${ms(l.inProcess.latencyMs.p99)} | - | - | - | - |

Answers by status: ${
    Object.entries(l.api.statuses)
      .map(([k, v]) => `${k}: ${n(v)}`)
      .join(', ') || 'none'
  }; ${n(l.api.timeouts)} requests got no answer within autocannon's 30 s timeout (counted as errors; their events may still be stored, which is why more events are on disk than were acknowledged).${
    l.api.statuses['500']
      ? `

A 500 is what the local API Gateway stand-in (local/api-gateway.ts) answers, as API Gateway does,
when the function has not answered within its timeout (serverless.yml \`provider.timeout\`) plus a
second: serverless offline queues the invocations of 100 connections on the machine's shared cores,
where Lambda would give each its own execution environment. The load client does not retry them.`
      : ''
  }

serverless offline runs every invocation through its own Lambda emulation on the same cores as the
load generator and the Firehose stand-in, so the API figures measure the local stack, not AWS; the
in-process row is the part of a Lambda invocation that is ours.

## SDK delivery, in detail

Each try opens a page, records ${d.events_per_try} custom events while sends fail, closes the tab, restores the
network or endpoint, and opens the next page, which must send the closed tab's events
(test/long/sdk-delivery.test.ts; counts from the rows on disk). ${n(d.failing_unseen_tries)} of the 'failing' tries
had not seen the 503 within 30 s (the handler's own retries are slow under load) and are counted
under 'failing-first', the case they then were. "Stored twice" rows are extra copies on disk; the
saved queries count each event_id once.

The copies in the offline row come from the harness, not from a real offline browser: playwright's
\`setOffline\` is DevTools network emulation, and Chromium runs a closing page's pagehide outside
it, so the page's last send can reach the server while the page, having seen a failure, also keeps
the batch stored for the next page. Seen in test/browser/sdk.test.ts, which now cuts the
connection for real instead (an endpoint that closes every socket).

| case | what fails | events | delivered | share | stored twice |
|---|---|---|---|---|---|
${modeRow('offline', 'browser offline when the tab closes', d.offline)}
${modeRow('failing', 'API answers 503; the page had already seen a failure', d.failing)}
${modeRow('failing-first (default)', 'API starts failing and the tab closes before the page has seen any failure', d['failing-first'])}
${modeRow('failing-first, keepUntilAcked', 'the same, with `keepUntilAcked: true`', d['failing-first-acked'])}

The third row is the case the SDK used to lose (13 % delivered before): a page-hide batch whose
answer only the closed page could have read now stays stored. Here the next page is a new tab, whose
sessionStorage is empty, so no page-hide marker reaches it and it sends the batch again whatever the
answer was; the rows do not exercise the same-tab hand-off (the next page of the same tab dropping a
batch it infers was acknowledged), which test/browser/outage.test.ts covers and whose loss window
docs/sdk.md states. \`keepUntilAcked: true\` never relies on that hand-off.

## Status codes seen by the fault clients

| run | ${[...new Set([...Object.keys(f.statuses), ...Object.keys(c.statuses)])].join(' | ')} |
|---|${[...new Set([...Object.keys(f.statuses), ...Object.keys(c.statuses)])].map(() => '---').join('|')}|
| faults at size | ${[...new Set([...Object.keys(f.statuses), ...Object.keys(c.statuses)])].map((k) => n(f.statuses[k] ?? 0)).join(' | ')} |
| crash and restart | ${[...new Set([...Object.keys(f.statuses), ...Object.keys(c.statuses)])].map((k) => n(c.statuses[k] ?? 0)).join(' | ')} |

A 503 is the handler saying Firehose did not take the events after its own retries; the client
retries it like a network error. No request was answered with another 5xx.

## Reproduce

\`\`\`
npm run reliability                     # everything, then rewrites this file (about an hour)
npm run test:long                       # the fault, crash, load and SDK delivery tests alone
npx jest test/integration/faults.test.ts  # the 300-event guard that npm test runs
\`\`\`
`;
  writeFileSync(join(root, 'docs', 'reliability.md'), doc);
  console.log(`\n${table}\n\nwrote docs/reliability.md`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
