/** npm run report: one self-contained page whose charts carry the queries' answers. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../local/report';
import { renderReport, REPORT_QUERIES, type ReportData } from '../../local/report/render';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate } from '../../local/simulator/index';
import { DEMO_FUNNEL, TRUTH } from '../../local/simulator/truth';

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 120, days: 7, end: '2026-11-12', seed: 21 };

describe('report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <LOCAL_DATA_DIR>/report.html, self-contained, with the answers in its charts', async () => {
    const sim = simulate(SIM, dir);
    const range = rangeOf(SIM);
    const file = await buildReport({ dataDir: dir, ...range });
    expect(file).toBe(join(dir, 'report.html'));
    const html = readFileSync(file, 'utf8');
    // Nothing to fetch: no external scripts, styles or images.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('Chart.js v4');
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!) as Record<string, { labels: unknown[]; series: [string, unknown[]][] }>;
    const dau = TRUTH.daily_active_users!(sim.truthInput, range);
    expect(data.traffic!.labels).toEqual(dau.map((r) => r.dt));
    expect(data.traffic!.series.map(([label, v]) => [label, v])).toEqual([
      ['Visitors', dau.map((r) => r.visitors)], ['Sessions', dau.map((r) => r.sessions)], ['Page views', dau.map((r) => r.page_views)],
    ]);
    expect(data.funnel!.series[0]![1]).toEqual(TRUTH.funnel!(sim.truthInput, { ...range, steps: DEMO_FUNNEL }).map((r) => r.sessions));
    for (const id of ['traffic', 'pages', 'sources', 'funnel', 'clicks', 'hourly', 'quality']) expect(html).toContain(`id="chart-${id}"`);
    expect(html).toContain('Weekly retention');
  });

  it('escapes what visitors control (paths, element names)', () => {
    const empty = { columns: [], rows: [] };
    const results = Object.fromEntries(REPORT_QUERIES.map((q) => [q, empty])) as unknown as ReportData['results'];
    results.daily_active_users = { columns: ['dt', 'visitors', 'sessions', 'page_views'], rows: [] };
    results.sessions_summary = { columns: ['dt', 'sessions', 'bounce_rate', 'avg_session_seconds', 'pages_per_session'], rows: [] };
    results.custom_events = { columns: ['name', 'events', 'visitors'], rows: [] };
    results.top_pages = { columns: ['path', 'page_views', 'visitors'], rows: [['/<script>alert(1)</script>', 1, 1]] };
    results.traffic_sources = { columns: ['source', 'medium', 'campaign', 'sessions', 'visitors'], rows: [] };
    results.funnel = { columns: ['step', 'step_name', 'sessions'], rows: [] };
    results.element_clicks = { columns: ['element', 'name', 'path', 'clicks', 'visitors', 'avg_time_spent_seconds'], rows: [['</script><b>x', 'button', '/', 1, 1, 1]] };
    results.hourly_traffic = { columns: ['hour', 'page_views', 'visitors'], rows: [] };
    results.data_quality = { columns: ['dt', 'accepted', 'rejected', 'duplicates', 'bots', 'p50_latency_seconds', 'p95_latency_seconds'], rows: [] };
    const html = renderReport({ title: 't', from: '2026-11-01', to: '2026-11-02', generatedAt: 'now', source: 's', funnelSteps: [], results }, '/* chart */');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('</script><b>x');
    expect(html).toContain('&#60;script&#62;alert(1)');
  });
});
