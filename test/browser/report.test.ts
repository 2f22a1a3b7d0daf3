/**
 * The report as a person sees it, in real Chromium: no card overflows (the sessions table used to
 * spill out of its card), and the charts carry legends and axis titles as Chart.js draws them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildReport } from '../../local/report';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate } from '../../local/simulator/index';
import { canRunBrowser, CHROMIUM, launchBrowser, type Browser } from '../support/browser';

/** What the test reads of a Chart.js chart's options. */
type Title = { display: boolean; text: string };
type ChartOptions = { plugins: { legend: { display: boolean } }; scales: { x: { title: Title }; y: { title: Title } } };

if (!canRunBrowser) console.warn(`SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install -y chromium). Under CI they always run.`);
const suite = canRunBrowser ? describe : describe.skip;

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 300, days: 30, end: '2026-11-30', seed: 4 };

suite('the report page in Chromium', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let url: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-report-page-'));
    simulate(SIM, dir);
    // A range that ends "today", so the partial day is drawn too.
    url = pathToFileURL(await buildReport({ dataDir: dir, ...rangeOf(SIM), now: new Date(`${SIM.end}T10:00:00Z`) })).href;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [1280, 900],
    [820, 1180],
    [390, 844],
  ])('at %d px wide, no card is wider than its box and the page does not scroll sideways', async (width, height) => {
    const page = await browser!.ctx.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(url);
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll('section')]
        .filter((s) => s.scrollWidth > s.clientWidth + 1)
        .map((s) => `${s.id}: ${s.scrollWidth} > ${s.clientWidth}`),
    );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.close();
  });

  it('draws every chart with a legend and titled axes; the hourly chart names its two series and its axes', async () => {
    const page = await browser!.ctx.newPage();
    await page.goto(url);
    const charts = await page.evaluate(() => {
      const C = (
        window as unknown as {
          Chart: { getChart(el: Element): { options: ChartOptions; data: { datasets: { label: string }[] } } | undefined };
        }
      ).Chart;
      return [...document.querySelectorAll('canvas')].map((el) => {
        const c = C.getChart(el)!;
        return {
          id: el.id,
          legend: c.options.plugins.legend.display,
          x: c.options.scales.x.title.display ? c.options.scales.x.title.text : null,
          y: c.options.scales.y.title.display ? c.options.scales.y.title.text : null,
          series: c.data.datasets.map((d: { label: string }) => d.label),
        };
      });
    });
    expect(charts.length).toBe(7);
    expect(charts.filter((c) => c.legend !== true)).toEqual([]);
    // Bar charts lying down title the value axis only; the others title both.
    expect(charts.filter((c) => c.x === null && c.y === null)).toEqual([]);
    expect(charts.find((c) => c.id === 'chart-hourly')).toEqual({
      id: 'chart-hourly',
      legend: true,
      x: 'Hour of the day (UTC)',
      y: 'Count over the range',
      series: ['Page views', 'Visitors'],
    });
    const traffic = charts.find((c) => c.id === 'chart-traffic')!;
    expect([traffic.x, traffic.y]).toEqual(['Event date (UTC)', 'Count']);
    await page.close();
  });
});
