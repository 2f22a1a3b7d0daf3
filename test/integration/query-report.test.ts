/** npm run report: one self-contained page whose charts carry the queries' answers. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, queryCommand, runReportCli } from '../../local/report';
import { pageToPage, renderReport, REPORT_QUERIES, type ReportData } from '../../local/report/render';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate, type SimulationResult } from '../../local/simulator/index';
import { canonical, DEMO_FUNNEL, TRUTH } from '../../local/simulator/truth';

const ROOT = join(__dirname, '../..');
type ChartData = Record<string, { labels: unknown[]; series: [string, unknown[]][]; partialFrom?: number; x?: string; y?: string }>;
const chartData = (html: string) =>
  JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!) as ChartData;
const sectionOf = (html: string, id: string) => html.match(new RegExp(`<section id="${id}"[^>]*>(.*?)</section>`, 's'))![1]!;
const unescapeHtml = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
/** The cells of a section's table, row by row, as text. */
const cells = (section: string) =>
  [...section.matchAll(/<tr>(.*?)<\/tr>/gs)]
    .map((m) => [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => unescapeHtml(c[1]!)))
    .filter((r) => r.length > 0);

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
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!) as Record<
      string,
      { labels: unknown[]; series: [string, unknown[]][] }
    >;
    const dau = TRUTH.daily_active_users!(sim.truthInput, range);
    expect(data.traffic!.labels).toEqual(dau.map((r) => r.dt));
    expect(data.traffic!.series.map(([label, v]) => [label, v])).toEqual([
      ['Visitors', dau.map((r) => r.visitors)],
      ['Sessions', dau.map((r) => r.sessions)],
      ['Page views', dau.map((r) => r.page_views)],
    ]);
    expect(data.funnel!.series[0]![1]).toEqual(TRUTH.funnel!(sim.truthInput, { ...range, steps: DEMO_FUNNEL }).map((r) => r.sessions));
    for (const id of ['traffic', 'pages', 'sources', 'funnel', 'clicks', 'hourly', 'quality']) expect(html).toContain(`id="chart-${id}"`);
    expect(html).toContain('Weekly retention');
  });

  describe('on simulated data', () => {
    let sim: SimulationResult;
    let sdir: string;
    const range = rangeOf(SIM);
    beforeAll(() => {
      sdir = mkdtempSync(join(tmpdir(), 'cs-report-sim-'));
      sim = simulate(SIM, sdir);
    });
    afterAll(() => rmSync(sdir, { recursive: true, force: true }));
    const page = async (o: { from?: string; to?: string; now?: Date; dir?: string } = {}) => {
      const file = await buildReport({
        dataDir: o.dir ?? sdir,
        from: o.from ?? range.from,
        to: o.to ?? range.to,
        now: o.now ?? new Date('2027-01-01T00:00:00Z'),
        out: join(o.dir ?? sdir, `r-${Math.random()}.html`),
      });
      return readFileSync(file, 'utf8');
    };

    it('marks a range that ends today as not over (labelled, drawn dashed, said in the header) instead of showing a drop', async () => {
      const html = await page({ now: new Date(`${range.to}T09:30:00Z`) });
      const traffic = chartData(html).traffic!;
      expect(traffic.labels.at(-1)).toBe(`${range.to} (so far)`);
      expect(traffic.partialFrom).toBe(traffic.labels.length - 1);
      expect(html).toContain(`<p id="partial">${range.to} is not over: its figures run to 09:30 UTC`);
      expect(cells(sectionOf(html, 'traffic')).at(-1)![0]).toBe(`${range.to} (so far, to 09:30 UTC)`);
      // A range over closed days has nothing to mark.
      const closed = await page({
        now: new Date(`${range.to}T00:00:00Z`),
        to: new Date(Date.parse(`${range.to}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10),
      });
      expect(closed).not.toContain('so far');
      expect(chartData(closed).traffic!.partialFrom).toBeUndefined();
    });

    it('by default covers the 30 days ending today, today marked as not over', async () => {
      let out = '';
      const file = join(sdir, 'default.html');
      const code = await runReportCli(['--out', file], {
        out: (x) => (out += x),
        err: (x) => (out += x),
        env: { LOCAL_DATA_DIR: sdir },
        now: () => new Date(`${range.to}T10:15:00Z`),
      });
      expect(code).toBe(0);
      const from = new Date(Date.parse(`${range.to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
      expect(out).toBe(`report for ${from} to ${range.to}: ${file}\n`);
      const traffic = chartData(readFileSync(file, 'utf8')).traffic!;
      expect(traffic.labels).toHaveLength(30);
      expect(traffic.labels.at(-1)).toBe(`${range.to} (so far)`);
    });

    it("leaves off an unfinished day that has no event yet (the simulator's default ends yesterday) rather than drawing a drop to 0", async () => {
      const tomorrow = new Date(Date.parse(`${range.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const html = await page({ to: tomorrow, now: new Date(`${tomorrow}T06:00:00Z`) });
      const traffic = chartData(html).traffic!;
      expect(traffic.labels.at(-1)).toBe(range.to);
      expect(traffic.partialFrom).toBeUndefined();
      expect(html).toContain(
        `<p id="partial">${tomorrow} is not over: no event of it yet (to 06:00 UTC), so the chart ends the day before`,
      );
    });

    it('draws days without visits as 0 and stops at today', async () => {
      const before = new Date(Date.parse(`${range.from}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);
      const html = await page({ from: before, to: '2030-01-01', now: new Date(`${range.to}T12:00:00Z`) });
      const traffic = chartData(html).traffic!;
      expect(traffic.labels.slice(0, 3)).toEqual([
        before,
        new Date(Date.parse(`${before}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
        range.from,
      ]);
      expect(traffic.series[0]![1].slice(0, 2)).toEqual([0, 0]);
      expect(traffic.labels.at(-1)).toBe(`${range.to} (so far)`);
    });

    it('gives bounce rate in percent everywhere: sessions and landing tables and the headline', async () => {
      const html = await page();
      const want = TRUTH.sessions_summary!(sim.truthInput, range);
      const rows = cells(sectionOf(html, 'sessions'));
      expect(rows.map((r) => r[2])).toEqual(want.map((w) => `${((w.bounce_rate as number) * 100).toFixed(1)} %`));
      expect(cells(sectionOf(html, 'landing')).every((r) => / %$/.test(r[2]!))).toBe(true);
      const sessions = want.reduce((a, w) => a + (w.sessions as number), 0);
      const bounced = want.reduce((a, w) => a + (w.sessions as number) * (w.bounce_rate as number), 0);
      expect(html).toContain(`Bounce rate<b>${((bounced / sessions) * 100).toFixed(1)} %</b>`);
    });

    it('labels the hourly chart: a legend for each series and both axes titled', async () => {
      const hourly = chartData(await page()).hourly!;
      expect(hourly.series.map(([label]) => label)).toEqual(['Page views', 'Visitors']);
      expect(hourly.x).toBe('Hour of the day (UTC)');
      expect(hourly.y).toMatch(/count/i);
      expect(renderReport.toString()).toContain('legend: { display: true');
    });

    it('folds same-page steps out of the paths table and says how many', async () => {
      const html = await page();
      const all = TRUTH.user_paths!(sim.truthInput, range);
      const same = all.filter((r) => r.from_path === r.to_path).reduce((a, r) => a + (r.transitions as number), 0);
      expect(same).toBeGreaterThan(0);
      const rows = cells(sectionOf(html, 'paths'));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r[0] === r[1])).toEqual([]);
      expect(rows.map((r) => r.slice(0, 2))).toEqual(
        all
          .filter((r) => r.from_path !== r.to_path)
          .slice(0, 12)
          .map((r) => [r.from_path, r.to_path]),
      );
      expect(sectionOf(html, 'paths')).toContain(`${same.toLocaleString('en-US')} such steps not shown`);
      expect(
        pageToPage({
          columns: ['from_path', 'to_path', 'transitions'],
          rows: [
            ['/a', '/a', 3],
            ['/a', '/b', 2],
          ],
        }),
      ).toEqual({ rows: { columns: ['from_path', 'to_path', 'transitions'], rows: [['/a', '/b', 2]] }, samePage: 3 });
    });

    it('says how many bot events it left out, in the header and in place of an empty table', async () => {
      const bots = canonical(sim.truthInput, true).filter(
        (x) => x.date >= range.from && x.date <= range.to && sim.truthInput.botVisitors.has(x.e.anonymous_id),
      ).length;
      expect(bots).toBeGreaterThan(0);
      expect(await page()).toMatch(new RegExp(`<p id="bots">bots excluded: ${bots} events \\(`));
      const botsOnly = mkdtempSync(join(tmpdir(), 'cs-report-bots-'));
      try {
        simulate({ ...SIM, visitors: 20, botShare: 1 }, botsOnly);
        const html = await page({ dir: botsOnly });
        expect(sectionOf(html, 'pages')).toMatch(/<p class="empty">No data in this range: bots excluded: \d+ events/);
      } finally {
        rmSync(botsOnly, { recursive: true, force: true });
      }
    });

    it('ends a cut table with a command that prints the rest: run, it answers every row', async () => {
      const html = await page();
      const section = sectionOf(html, 'clicks');
      const shown = cells(section).length;
      const cmd = unescapeHtml(section.match(/<code class="cmd">(.*?)<\/code>/)![1]!);
      const total = TRUTH.element_clicks!(sim.truthInput, range).length;
      expect(section).toContain(`${total - shown} more rows`);
      expect(cmd).toBe(`LOCAL_DATA_DIR=${sdir} npm run query -- element_clicks --from ${range.from} --to ${range.to}`);
      // Act: the command as a person pastes it, in the checkout.
      const run = spawnSync('sh', ['-c', cmd], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, LOCAL_DATA_DIR: undefined },
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`(${total} rows)`);
    }, 70_000);
  });

  it("quotes the command's words for a POSIX shell (funnel steps with spaces or quotes)", () => {
    const steps = ['/menu.html', "it's a step", 'a b&c'];
    const cmd = queryCommand(
      { queryArgs: ['--athena', '--workgroup', 'clickstream-dev', '--database', 'clickstream_dev'], queryEnv: {} },
      'funnel',
      '2026-11-01',
      '2026-11-07',
      steps,
    );
    const words = spawnSync('sh', ['-c', `printf '%s\\n' ${cmd}`], { encoding: 'utf8' })
      .stdout.trimEnd()
      .split('\n');
    expect(words).toEqual([
      'npm',
      'run',
      'query',
      '--',
      'funnel',
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-07',
      ...steps.flatMap((x) => ['--step', x]),
      '--athena',
      '--workgroup',
      'clickstream-dev',
      '--database',
      'clickstream_dev',
    ]);
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
    results.element_clicks = {
      columns: ['element', 'name', 'path', 'clicks', 'visitors', 'avg_time_spent_seconds'],
      rows: [['</script><b>x', 'button', '/', 1, 1, 1]],
    };
    results.hourly_traffic = { columns: ['hour', 'page_views', 'visitors'], rows: [] };
    results.data_quality = {
      columns: ['dt', 'accepted', 'rejected', 'duplicates', 'bots', 'p50_latency_seconds', 'p95_latency_seconds'],
      rows: [],
    };
    const html = renderReport(
      { title: 't', from: '2026-11-01', to: '2026-11-02', generatedAt: 'now', source: 's', funnelSteps: [], results },
      '/* chart */',
    );
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('</script><b>x');
    expect(html).toContain('&#60;script&#62;alert(1)');
  });
});
