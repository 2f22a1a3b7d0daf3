/**
 * One self-contained HTML page from the saved queries' answers: Chart.js (MIT) is inlined, the
 * data travels as JSON in the page, nothing is fetched, so the file can be mailed or opened offline.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Cell, ResultSet } from '../athena-local/duckdb';
import { excludedLine, type ExcludedBots } from './excluded-bots';

/** The queries the report shows, in page order. */
export const REPORT_QUERIES = [
  'daily_active_users',
  'sessions_summary',
  'top_pages',
  'traffic_sources',
  'funnel',
  'retention_weekly',
  'element_clicks',
  'custom_events',
  'landing_pages',
  'exit_pages',
  'user_paths',
  'devices',
  'countries',
  'hourly_traffic',
  'data_quality',
] as const;
export type ReportQuery = (typeof REPORT_QUERIES)[number];

export interface ReportData {
  title: string;
  from: string;
  to: string;
  generatedAt: string;
  source: string;
  funnelSteps: string[];
  results: Record<ReportQuery, ResultSet>;
  /** Bot events every business answer left out (undefined: not counted). */
  excludedBots?: ExcludedBots;
  /**
   * The day the report was made, when the range reaches it: that day is not over, so its figures
   * are marked as partial rather than read as a drop.
   */
  partialDay?: { date: string; until: string };
  /** A command that prints all rows of a query, with the report's range and source. */
  moreCommand?: (name: ReportQuery) => string;
}

/** The day `now` falls on, when the range reaches it (a range ending today has an unfinished last day). */
export function partialDayOf(to: string, now: Date): { date: string; until: string } | undefined {
  const today = now.toISOString().slice(0, 10);
  return to >= today ? { date: today, until: `${now.toISOString().slice(11, 16)} UTC` } : undefined;
}

/** Every day from `from` to `to`, as YYYY-MM-DD. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Rates are fractions (0..1) in the saved queries; people read percentages: one unit on the page. */
export const percent = (fraction: number) => `${(fraction * 100).toFixed(1)} %`;
const isRate = (columnName: string) => /(^|_)rate$/.test(columnName);

/**
 * A POSIX-shell word: left bare when it holds only safe characters, else single-quoted (so a step
 * such as `/menu.html?x=1` or an event name with spaces survives copy and paste).
 */
export const shellWord = (w: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * user_paths for people: a step to the same path is a query-string-only change (the order page's
 * ?step=cart, ?step=done: the server keeps only the path) or a reload, not a move between pages.
 * As in GA4's path exploration with "view unique nodes only", those repeats are folded away and
 * counted, so they do not crowd out the real page-to-page steps.
 */
export function pageToPage(rs: ResultSet): { rows: ResultSet; samePage: number } {
  const from = rs.columns.indexOf('from_path');
  const to = rs.columns.indexOf('to_path');
  const n = rs.columns.indexOf('transitions');
  const keep = rs.rows.filter((r) => r[from] !== r[to]);
  const samePage = rs.rows.filter((r) => r[from] === r[to]).reduce<number>((a, r) => a + Number(r[n] ?? 0), 0);
  return { rows: { columns: rs.columns, rows: keep }, samePage };
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function chartJsSource(): string {
  // The package's export map hides dist/; its main entry sits beside the UMD build.
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  // The source map is not shipped with the page; a script must not close the tag early.
  return readFileSync(file, 'utf8')
    .replace(/\n\/\/# sourceMappingURL=.*$/, '')
    .replace(/<\/script/gi, '<\\/script');
}

/** Values of one column. */
export function column(rs: ResultSet, name: string): Cell[] {
  const i = rs.columns.indexOf(name);
  if (i < 0) throw new Error(`result has no column ${name} (has ${rs.columns.join(', ')})`);
  return rs.rows.map((r) => r[i] ?? null);
}

/** A click's label with where it happened: a dish's card, Order button and Add button share its name. */
function clickLabels(rs: ResultSet): string[] {
  const kinds = column(rs, 'name');
  const paths = column(rs, 'path');
  return column(rs, 'element').map((e, i) => `${e} (${kinds[i]}, ${paths[i] ?? '?'})`);
}

const sum = (xs: Cell[]) => xs.reduce<number>((a, x) => a + (typeof x === 'number' ? x : 0), 0);

interface TableOptions {
  limit?: number;
  /** The query behind the table, for the "more rows" command. */
  query?: ReportQuery;
  /** Text for cells of one column, by value (the partial day's date). */
  mark?: { column: string; value: Cell; text: string };
}

function cellText(v: Cell, columnName: string): string {
  if (typeof v !== 'number') return String(v ?? '');
  return isRate(columnName) ? percent(v) : v.toLocaleString('en-US');
}

/** Page-wide context the tables need (bot count for empty answers, the command for more rows). */
interface TableContext {
  empty: string;
  moreCommand?: (name: ReportQuery) => string;
}

function makeTable(ctx: TableContext) {
  return (rs: ResultSet, o: TableOptions = {}): string => {
    const limit = o.limit ?? 15;
    if (rs.rows.length === 0) return `<p class="empty">${ctx.empty}</p>`;
    const head = rs.columns.map((c) => `<th>${esc(c)}</th>`).join('');
    const markAt = o.mark ? rs.columns.indexOf(o.mark.column) : -1;
    const body = rs.rows
      .slice(0, limit)
      .map(
        (r) =>
          `<tr>${r
            .map((v, i) => {
              const text = i === markAt && v === o.mark!.value ? o.mark!.text : cellText(v, rs.columns[i]!);
              return `<td${typeof v === 'number' ? ' class="n"' : ''}>${esc(text)}</td>`;
            })
            .join('')}</tr>`,
      )
      .join('');
    const rest = rs.rows.length - limit;
    const cmd = o.query && ctx.moreCommand ? ctx.moreCommand(o.query) : undefined;
    const more =
      rest > 0 ? `<p class="more">${rest} more row${rest === 1 ? '' : 's'}${cmd ? `: <code class="cmd">${esc(cmd)}</code>` : ''}</p>` : '';
    // The wrapper scrolls a wide table inside its card instead of pushing the card open.
    return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>${more}`;
  };
}

/** Retention as a grid: cohorts down, weeks across, share of the cohort shaded. */
function retentionGrid(rs: ResultSet): string {
  if (rs.rows.length === 0) return '<p class="empty">No data in this range.</p>';
  const cohorts = [...new Set(column(rs, 'cohort_week') as string[])];
  const maxOffset = Math.max(...(column(rs, 'week_offset') as number[]));
  const cell = new Map(rs.rows.map((r) => [`${r[0]}|${r[1]}`, r[2] as number]));
  const head = `<tr><th>cohort week</th>${Array.from({ length: maxOffset + 1 }, (_, w) => `<th>week ${w}</th>`).join('')}</tr>`;
  const body = cohorts
    .map((c) => {
      const size = cell.get(`${c}|0`) ?? 0;
      const tds = Array.from({ length: maxOffset + 1 }, (_, w) => {
        const v = cell.get(`${c}|${w}`);
        if (v === undefined) return '<td></td>';
        const share = size ? v / size : 0;
        return `<td class="n heat" style="background:rgba(37,99,235,${(0.08 + 0.8 * share).toFixed(2)})" title="${v} of ${size}">${w === 0 ? v : `${(share * 100).toFixed(0)}%`}</td>`;
      }).join('');
      return `<tr><th>${esc(c)}</th>${tds}</tr>`;
    })
    .join('');
  return `<table class="grid"><thead>${head}</thead><tbody>${body}</tbody></table><p class="more">Week 0: visitors new in that week; later weeks: share of them active again.</p>`;
}

/** One day's values, with a 0 for each day of the range the query has no row for (a day without visits is a 0, not a gap to draw across). */
function everyDay(rs: ResultSet, days: string[], names: string[]): Cell[][] {
  const byDay = new Map(rs.rows.map((row) => [row[rs.columns.indexOf('dt')], row]));
  return names.map((n) => days.map((dt) => byDay.get(dt)?.[rs.columns.indexOf(n)] ?? 0));
}

export function renderReport(d: ReportData, chartJs = chartJsSource()): string {
  const r = d.results;
  const dau = r.daily_active_users;
  const sess = r.sessions_summary;
  const sessions = sum(column(sess, 'sessions'));
  const sessionCounts = column(sess, 'sessions');
  const bounced = column(sess, 'bounce_rate').reduce<number>((a, rate, i) => a + Number(rate) * Number(sessionCounts[i]), 0);
  const orders = r.custom_events.rows.find((x) => x[0] === 'order_placed')?.[1] ?? 0;
  const kpis: [string, string][] = [
    ['Page views', sum(column(dau, 'page_views')).toLocaleString('en-US')],
    ['Sessions', sessions.toLocaleString('en-US')],
    ['Bounce rate', sessions ? percent(bounced / sessions) : '–'],
    ['Orders placed', Number(orders).toLocaleString('en-US')],
  ];
  const partial = d.partialDay;
  // The chart runs to the last day that has begun; the unfinished day is labelled and drawn dashed.
  // An unfinished day with no event yet is left off: a 0 there says nothing but "not yet".
  const todayEmpty = partial !== undefined && !column(dau, 'dt').includes(partial.date);
  const dayBefore = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const lastDay = partial && partial.date <= d.to ? (todayEmpty ? dayBefore(partial.date) : partial.date) : d.to;
  const days = lastDay < d.from ? [] : daysBetween(d.from, lastDay);
  const dayLabel = (dt: Cell) => (partial && dt === partial.date ? `${dt} (so far)` : String(dt));
  const [visitors, sessionsByDay, pageViews] = everyDay(dau, days, ['visitors', 'sessions', 'page_views']);
  const partialFrom = partial && days.includes(partial.date) ? days.indexOf(partial.date) : undefined;
  const hourly = r.hourly_traffic;
  const paths = pageToPage(r.user_paths);
  const charts = {
    traffic: {
      type: 'line',
      labels: days.map(dayLabel),
      partialFrom,
      x: 'Event date (UTC)',
      y: 'Count',
      series: [
        ['Visitors', visitors],
        ['Sessions', sessionsByDay],
        ['Page views', pageViews],
      ],
    },
    pages: {
      type: 'bar',
      horizontal: true,
      x: 'Page views',
      labels: column(r.top_pages, 'path').slice(0, 10),
      series: [['Page views', column(r.top_pages, 'page_views').slice(0, 10)]],
    },
    sources: {
      type: 'bar',
      horizontal: true,
      x: 'Sessions',
      labels: r.traffic_sources.rows.slice(0, 10).map((x) => `${x[0]} / ${x[1]}${x[2] !== '(not set)' ? ` (${x[2]})` : ''}`),
      series: [['Sessions', column(r.traffic_sources, 'sessions').slice(0, 10)]],
    },
    funnel: {
      type: 'bar',
      y: 'Sessions',
      labels: r.funnel.rows.map((x) => `${x[0]}. ${x[1]}`),
      series: [['Sessions', column(r.funnel, 'sessions')]],
    },
    clicks: {
      type: 'bar',
      horizontal: true,
      x: 'Clicks',
      labels: clickLabels(r.element_clicks).slice(0, 12),
      series: [['Clicks', column(r.element_clicks, 'clicks').slice(0, 12)]],
    },
    hourly: {
      type: 'bar',
      x: 'Hour of the day (UTC)',
      y: 'Count over the range',
      labels: column(hourly, 'hour').map((h) => `${String(h).padStart(2, '0')}:00`),
      series: [
        ['Page views', column(hourly, 'page_views')],
        ['Visitors', column(hourly, 'visitors')],
      ],
    },
    quality: {
      type: 'bar',
      stacked: true,
      x: 'Event date (UTC)',
      y: 'Events',
      labels: column(r.data_quality, 'dt').map(dayLabel),
      series: [
        ['Accepted', column(r.data_quality, 'accepted')],
        ['Duplicates', column(r.data_quality, 'duplicates')],
        ['Bots', column(r.data_quality, 'bots')],
        ['Rejected', column(r.data_quality, 'rejected')],
      ],
    },
  };
  const bots = d.excludedBots;
  const botNote = bots ? esc(excludedLine(bots)) : '';
  const table = makeTable({
    empty: bots && bots.total > 0 ? `No data in this range: ${botNote}.` : 'No data in this range.',
    moreCommand: d.moreCommand,
  });
  const partialMark = partial ? { column: 'dt', value: partial.date, text: `${partial.date} (so far, to ${partial.until})` } : undefined;
  const json = JSON.stringify(charts).replace(/</g, '\\u003c');
  const section = (id: string, title: string, body: string, note = '', cls = '') =>
    `<section id="${id}"${cls ? ` class="${cls}"` : ''}><h2>${esc(title)}</h2>${note ? `<p class="note">${note}</p>` : ''}${body}</section>`;
  const canvas = (id: string) => `<div class="chart"><canvas id="chart-${id}" role="img" aria-label="${id} chart"></canvas></div>`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)} — ${esc(d.from)} to ${esc(d.to)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1f2937}
header{background:#1f2937;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{max-width:1150px;margin:0 auto;padding:18px;display:grid;grid-template-columns:1fr 1fr;gap:18px}
section{background:#fff;border-radius:10px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:0}
section.wide,#kpis{grid-column:1/-1}h2{font-size:17px;margin:0 0 8px}
#kpis{display:flex;gap:18px;flex-wrap:wrap;background:none;box-shadow:none;padding:0}
.kpi{flex:1;min-width:160px;background:#fff;border-radius:10px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}.kpi b{display:block;font-size:26px}
.chart{position:relative;height:280px}.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;width:100%;font-size:13px;margin-top:10px}
th,td{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:left;overflow-wrap:break-word}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code.cmd{display:block;overflow-x:auto;white-space:pre;background:#f3f4f6;padding:4px 6px;border-radius:4px;user-select:all}
header p#bots,header p#partial{font-size:14px}
.grid td.heat{color:#111}.note,.more,.empty{color:#6b7280;font-size:13px}
@media (max-width:800px){main{grid-template-columns:1fr}}
</style></head><body>
<header><h1>${esc(d.title)}</h1><p>${esc(d.from)} to ${esc(d.to)} (event dates, UTC) · duplicates excluded · generated ${esc(d.generatedAt)} from ${esc(d.source)}</p>
<p id="bots">${bots ? botNote : 'bots excluded'}</p>${partial ? `<p id="partial">${esc(partial.date)} is not over: ${todayEmpty ? `no event of it yet (to ${esc(partial.until)}), so the chart ends the day before` : `its figures run to ${esc(partial.until)}, are marked “so far” and drawn dashed`}; compare full days only.</p>` : ''}</header>
<main>
<section id="kpis">${kpis.map(([k, v]) => `<div class="kpi">${esc(k)}<b>${esc(v)}</b></div>`).join('')}</section>
${section('traffic', 'Traffic over time', canvas('traffic') + table(dau, { limit: 40, query: 'daily_active_users', mark: partialMark }), 'daily_active_users; days without visits drawn as 0', 'wide')}
${section('pages', 'Top pages', canvas('pages') + table(r.top_pages, { limit: 10, query: 'top_pages' }), 'top_pages')}
${section('sources', 'Traffic sources', canvas('sources') + table(r.traffic_sources, { limit: 10, query: 'traffic_sources' }), 'traffic_sources: source / medium of each session’s landing page')}
${section('funnel', 'Funnel', canvas('funnel') + table(r.funnel, { query: 'funnel' }), `funnel: ${d.funnelSteps.map(esc).join(' → ')}, in order within a session`)}
${section('retention', 'Weekly retention', retentionGrid(r.retention_weekly), 'retention_weekly')}
${section('clicks', 'Menu items and buttons clicked', canvas('clicks') + table(r.element_clicks, { limit: 12, query: 'element_clicks' }), 'element_clicks: one row per element, kind of click (name) and page (path); avg_time_spent_seconds is the time on the page before the click', 'wide')}
${section('hourly', 'Traffic by hour (UTC)', canvas('hourly'), 'hourly_traffic: page views and visitors per hour of the day, summed over the range')}
${section('devices', 'Devices', table(r.devices, { limit: 12, query: 'devices' }), 'devices')}
${section('countries', 'Countries', table(r.countries, { limit: 15, query: 'countries' }), 'countries: CloudFront’s viewer country behind the edge, else the client address looked up in DB-IP Lite (<a href="https://db-ip.com">IP Geolocation by DB-IP</a>, CC BY 4.0); the address itself is not stored')}
${section('sessions', 'Sessions', table(sess, { limit: 40, query: 'sessions_summary', mark: partialMark }), 'sessions_summary: a bounce is one page view and no engagement (click, custom event or ≥ 10 s engaged); bounce_rate in % of sessions', 'wide')}
${section('landing', 'Landing pages', table(r.landing_pages, { limit: 10, query: 'landing_pages' }), 'landing_pages: bounce_rate in % of entrances')}
${section('exits', 'Exit pages', table(r.exit_pages, { limit: 10, query: 'exit_pages' }), 'exit_pages')}
${section('paths', 'Paths', table(paths.rows, { limit: 12, query: 'user_paths' }), `user_paths: page-to-page transitions. Steps to the same path (query-string-only steps such as /order.html?step=cart, and reloads) are folded away${paths.samePage ? `: ${paths.samePage.toLocaleString('en-US')} such steps not shown` : ''}; npm run query lists them`)}
${section('events', 'Custom events', table(r.custom_events, { limit: 12, query: 'custom_events' }), 'custom_events')}
${section('quality', 'Data quality', canvas('quality') + table(r.data_quality, { limit: 40, query: 'data_quality', mark: partialMark }), 'data_quality: latency is event time to arrival at the collector; bots are counted here, left out everywhere else', 'wide')}
</main>
<script type="application/json" id="report-data">${json}</script>
<script>${chartJs}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colors = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2'];
  Object.keys(data).forEach(function (id) {
    var c = data[id], el = document.getElementById('chart-' + id);
    if (!el || typeof Chart === 'undefined') return;
    var title = function (text) { return text ? { display: true, text: text } : { display: false }; };
    // The unfinished day's segment is dashed: a low last point is the day not being over, not a drop.
    var dashed = c.partialFrom == null ? undefined : { borderDash: function (ctx) { return ctx.p1DataIndex >= c.partialFrom ? [6, 4] : undefined; } };
    new Chart(el, {
      type: c.type,
      data: { labels: c.labels, datasets: c.series.map(function (s, i) {
        return { label: s[0], data: s[1], backgroundColor: colors[i % colors.length], borderColor: colors[i % colors.length], tension: 0.25, pointRadius: 2, segment: dashed };
      }) },
      options: { maintainAspectRatio: false, indexAxis: c.horizontal ? 'y' : 'x', animation: false,
        plugins: { legend: { display: true, position: 'bottom' } },
        scales: { x: { stacked: !!c.stacked, title: title(c.x) }, y: { stacked: !!c.stacked, beginAtZero: true, title: title(c.y) } } }
    });
  });
})();
</script>
</body></html>
`;
}
