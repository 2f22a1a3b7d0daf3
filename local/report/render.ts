/**
 * One self-contained HTML page from the saved queries' answers: Chart.js (MIT) is inlined, the
 * data travels as JSON in the page, nothing is fetched, so the file can be mailed or opened offline.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Cell, ResultSet } from '../athena-local/duckdb';

/** The queries the report shows, in page order. */
export const REPORT_QUERIES = [
  'daily_active_users', 'sessions_summary', 'top_pages', 'traffic_sources', 'funnel', 'retention_weekly',
  'element_clicks', 'custom_events', 'landing_pages', 'exit_pages', 'user_paths', 'devices', 'hourly_traffic', 'data_quality',
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
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function chartJsSource(): string {
  // The package's export map hides dist/; its main entry sits beside the UMD build.
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  // The source map is not shipped with the page; a script must not close the tag early.
  return readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '').replace(/<\/script/gi, '<\\/script');
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

function table(rs: ResultSet, limit = 15): string {
  if (rs.rows.length === 0) return '<p class="empty">No data in this range.</p>';
  const head = rs.columns.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rs.rows.slice(0, limit).map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="n"' : ''}>${esc(typeof v === 'number' ? v.toLocaleString('en-US') : v)}</td>`).join('')}</tr>`).join('');
  const more = rs.rows.length > limit ? `<p class="more">${rs.rows.length - limit} more rows: <code>npm run query -- …</code></p>` : '';
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

/** Retention as a grid: cohorts down, weeks across, share of the cohort shaded. */
function retentionGrid(rs: ResultSet): string {
  if (rs.rows.length === 0) return '<p class="empty">No data in this range.</p>';
  const cohorts = [...new Set(column(rs, 'cohort_week') as string[])];
  const maxOffset = Math.max(...(column(rs, 'week_offset') as number[]));
  const cell = new Map(rs.rows.map((r) => [`${r[0]}|${r[1]}`, r[2] as number]));
  const head = `<tr><th>cohort week</th>${Array.from({ length: maxOffset + 1 }, (_, w) => `<th>week ${w}</th>`).join('')}</tr>`;
  const body = cohorts.map((c) => {
    const size = cell.get(`${c}|0`) ?? 0;
    const tds = Array.from({ length: maxOffset + 1 }, (_, w) => {
      const v = cell.get(`${c}|${w}`);
      if (v === undefined) return '<td></td>';
      const share = size ? v / size : 0;
      return `<td class="n heat" style="background:rgba(37,99,235,${(0.08 + 0.8 * share).toFixed(2)})" title="${v} of ${size}">${w === 0 ? v : `${(share * 100).toFixed(0)}%`}</td>`;
    }).join('');
    return `<tr><th>${esc(c)}</th>${tds}</tr>`;
  }).join('');
  return `<table class="grid"><thead>${head}</thead><tbody>${body}</tbody></table><p class="more">Week 0: visitors new in that week; later weeks: share of them active again.</p>`;
}

export function renderReport(d: ReportData, chartJs = chartJsSource()): string {
  const r = d.results;
  const dau = r.daily_active_users;
  const sess = r.sessions_summary;
  const sessions = sum(column(sess, 'sessions'));
  const bounced = sess.rows.reduce((a, row) => a + (row[1] as number) * (row[2] as number), 0);
  const orders = r.custom_events.rows.find((x) => x[0] === 'order_placed')?.[1] ?? 0;
  const kpis: [string, string][] = [
    ['Page views', sum(column(dau, 'page_views')).toLocaleString('en-US')],
    ['Sessions', sessions.toLocaleString('en-US')],
    ['Bounce rate', sessions ? `${((bounced / sessions) * 100).toFixed(1)} %` : '–'],
    ['Orders placed', Number(orders).toLocaleString('en-US')],
  ];
  const charts = {
    traffic: { type: 'line', labels: column(dau, 'dt'), series: [['Visitors', column(dau, 'visitors')], ['Sessions', column(dau, 'sessions')], ['Page views', column(dau, 'page_views')]] },
    pages: { type: 'bar', horizontal: true, labels: column(r.top_pages, 'path').slice(0, 10), series: [['Page views', column(r.top_pages, 'page_views').slice(0, 10)]] },
    sources: { type: 'bar', horizontal: true, labels: r.traffic_sources.rows.slice(0, 10).map((x) => `${x[0]} / ${x[1]}${x[2] !== '(not set)' ? ` (${x[2]})` : ''}`), series: [['Sessions', column(r.traffic_sources, 'sessions').slice(0, 10)]] },
    funnel: { type: 'bar', labels: r.funnel.rows.map((x) => `${x[0]}. ${x[1]}`), series: [['Sessions', column(r.funnel, 'sessions')]] },
    clicks: { type: 'bar', horizontal: true, labels: clickLabels(r.element_clicks).slice(0, 12), series: [['Clicks', column(r.element_clicks, 'clicks').slice(0, 12)]] },
    hourly: { type: 'bar', labels: column(r.hourly_traffic, 'hour').map((h) => `${String(h).padStart(2, '0')}:00`), series: [['Page views', column(r.hourly_traffic, 'page_views')]] },
    quality: { type: 'bar', stacked: true, labels: column(r.data_quality, 'dt'), series: [['Accepted', column(r.data_quality, 'accepted')], ['Duplicates', column(r.data_quality, 'duplicates')], ['Bots', column(r.data_quality, 'bots')], ['Rejected', column(r.data_quality, 'rejected')]] },
  };
  const json = JSON.stringify(charts).replace(/</g, '\\u003c');
  const section = (id: string, title: string, body: string, note = '') =>
    `<section id="${id}"><h2>${esc(title)}</h2>${note ? `<p class="note">${note}</p>` : ''}${body}</section>`;
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
.chart{position:relative;height:280px}table{border-collapse:collapse;width:100%;font-size:13px;margin-top:10px}
th,td{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid td.heat{color:#111}.note,.more,.empty{color:#6b7280;font-size:13px}
@media (max-width:800px){main{grid-template-columns:1fr}}
</style></head><body>
<header><h1>${esc(d.title)}</h1><p>${esc(d.from)} to ${esc(d.to)} (event dates, UTC) · bots and duplicates excluded · generated ${esc(d.generatedAt)} from ${esc(d.source)}</p></header>
<main>
<section id="kpis">${kpis.map(([k, v]) => `<div class="kpi">${esc(k)}<b>${esc(v)}</b></div>`).join('')}</section>
${section('traffic', 'Traffic over time', canvas('traffic') + table(dau, 40), 'daily_active_users').replace('<section', '<section class="wide"')}
${section('pages', 'Top pages', canvas('pages') + table(r.top_pages, 10), 'top_pages')}
${section('sources', 'Traffic sources', canvas('sources') + table(r.traffic_sources, 10), 'traffic_sources: source / medium of each session’s landing page')}
${section('funnel', 'Funnel', canvas('funnel') + table(r.funnel), `funnel: ${d.funnelSteps.map(esc).join(' → ')}, in order within a session`)}
${section('retention', 'Weekly retention', retentionGrid(r.retention_weekly), 'retention_weekly')}
${section('clicks', 'Menu items and buttons clicked', canvas('clicks') + table(r.element_clicks, 12), 'element_clicks: avg_time_spent_seconds is the time on the page before the click')}
${section('hourly', 'Traffic by hour (UTC)', canvas('hourly'), 'hourly_traffic')}
${section('sessions', 'Sessions', table(sess, 40), 'sessions_summary: a bounce is one page view and no engagement (click, custom event or ≥ 10 s engaged)')}
${section('landing', 'Landing pages', table(r.landing_pages, 10), 'landing_pages')}
${section('exits', 'Exit pages', table(r.exit_pages, 10), 'exit_pages')}
${section('paths', 'Paths', table(r.user_paths, 12), 'user_paths: page-to-page transitions')}
${section('devices', 'Devices', table(r.devices, 12), 'devices')}
${section('events', 'Custom events', table(r.custom_events, 12), 'custom_events')}
${section('quality', 'Data quality', canvas('quality') + table(r.data_quality, 40), 'data_quality: latency is event time to arrival at the collector').replace('<section', '<section class="wide"')}
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
    new Chart(el, {
      type: c.type,
      data: { labels: c.labels, datasets: c.series.map(function (s, i) {
        return { label: s[0], data: s[1], backgroundColor: colors[i % colors.length], borderColor: colors[i % colors.length], tension: 0.25, pointRadius: 2 };
      }) },
      options: { maintainAspectRatio: false, indexAxis: c.horizontal ? 'y' : 'x', animation: false,
        plugins: { legend: { display: c.series.length > 1 } },
        scales: { x: { stacked: !!c.stacked }, y: { stacked: !!c.stacked, beginAtZero: true } } }
    });
  });
})();
</script>
</body></html>
`;
}
