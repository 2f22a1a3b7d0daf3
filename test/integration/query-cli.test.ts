/** The runner's command line: error cases, listing and output formats. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQueryCli, formatResult } from '../../local/query';
import { DEFAULT_OPTIONS } from '../../local/simulator/generate';
import { simulate } from '../../local/simulator/index';
import { canonical } from '../../local/simulator/truth';
import { loadQuery, queryNames } from '../../local/athena-local/queries';
import { excludesBots } from '../../local/report/excluded-bots';

const ROOT = join(__dirname, '../..');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await runQueryCli(args, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

describe('npm run query', () => {
  let dataDir: string;
  let emptyDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cs-query-cli-'));
    emptyDir = mkdtempSync(join(tmpdir(), 'cs-query-empty-'));
    simulate({ ...DEFAULT_OPTIONS, visitors: 60, days: 3, end: '2026-11-10', seed: 3 }, dataDir);
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('lists every query with its one-line description', async () => {
    const r = await cli(['--list']);
    expect(r.code).toBe(0);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(queryNames());
    expect(r.out).toMatch(/^element_clicks +Which elements \(menu items, buttons, links\) are clicked/m);
  });

  it('rejects an unknown query with the known names', async () => {
    const r = await cli(['top_page', '--from', '2026-11-08', '--to', '2026-11-10'], { LOCAL_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown query 'top_page'");
    expect(r.err).toContain('top_pages');
  });

  it.each([
    [['--from', '2026-11-31', '--to', '2026-12-01'], "--from must be a date YYYY-MM-DD, got '2026-11-31'"],
    [['--from', '2026-11-36', '--to', '2026-12-01'], "--from must be a date YYYY-MM-DD, got '2026-11-36'"],
    [['--from', '2026-11-01', '--to', '2026-13-01'], "--to must be a date YYYY-MM-DD, got '2026-13-01'"],
    [['--from', '2026-11-08', '--to', '10/11/2026'], "--to must be a date YYYY-MM-DD, got '10/11/2026'"],
    [['--to', '2026-11-10'], '--from YYYY-MM-DD is required'],
    [['--from', '2026-11-10', '--to', '2026-11-08'], '--from 2026-11-10 is after --to 2026-11-08'],
    [['--from', '2019-12-31', '--to', '2026-11-08'], '--from must be between 2020-01-01 and 2047-05-18'],
    [['--from', '2026-11-08', '--to', '2026-11-10', '--format', 'xml'], "--format must be table, csv or json, got 'xml'"],
    [['--from', '2026-11-08', '--to', '2026-11-10', '--step', '/'], '--step applies to funnel only'],
  ])('rejects bad arguments %j', async (args, message) => {
    const r = await cli(['top_pages', ...args], { LOCAL_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it('needs 1 to 4 funnel steps', async () => {
    const none = await cli(['funnel', '--from', '2026-11-08', '--to', '2026-11-10'], { LOCAL_DATA_DIR: dataDir });
    expect(none.code).toBe(2);
    expect(none.err).toContain('funnel needs 1 to 4 --step values');
    const five = await cli(
      ['funnel', '--from', '2026-11-08', '--to', '2026-11-10', ...['/', '/a', '/b', '/c', '/d'].flatMap((s) => ['--step', s])],
      { LOCAL_DATA_DIR: dataDir },
    );
    expect(five.code).toBe(2);
    expect(five.err).toContain('at most 4 --step values');
  });

  it('says so when the data folder is empty', async () => {
    const r = await cli(['top_pages', '--from', '2026-11-08', '--to', '2026-11-10'], { LOCAL_DATA_DIR: emptyDir });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no event objects under ${join(emptyDir, 'events')}`);
    expect(r.err).toContain('npm run simulate');
  });

  it('prints a table, CSV and JSON of the same answer', async () => {
    const args = ['daily_active_users', '--from', '2026-11-08', '--to', '2026-11-10'];
    const json = await cli([...args, '--format', 'json'], { LOCAL_DATA_DIR: dataDir });
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as Record<string, unknown>[];
    expect(rows.map((r) => r.dt)).toEqual(['2026-11-08', '2026-11-09', '2026-11-10']);
    expect(Object.keys(rows[0]!)).toEqual(['dt', 'visitors', 'sessions', 'page_views']);
    const csv = await cli([...args, '--format', 'csv'], { LOCAL_DATA_DIR: dataDir });
    expect(csv.out.trim().split('\n')).toEqual([
      'dt,visitors,sessions,page_views',
      ...rows.map((r) => `${r.dt},${r.visitors},${r.sessions},${r.page_views}`),
    ]);
    const table = await cli(args, { LOCAL_DATA_DIR: dataDir });
    expect(table.out).toContain('│ dt ');
    expect(table.out).toContain(`│ ${rows[0]!.dt} │`);
    expect(table.out).toContain('(3 rows)');
  });

  describe('says how many bot events it left out', () => {
    let botsOnly: string;
    let truthBots: number;
    beforeAll(() => {
      // Prepare: a site visited only by crawlers and headless browsers, as a newcomer testing with curl or Chromium.
      botsOnly = mkdtempSync(join(tmpdir(), 'cs-query-bots-'));
      const sim = simulate({ ...DEFAULT_OPTIONS, visitors: 30, days: 3, end: '2026-11-10', seed: 5, botShare: 1 }, botsOnly);
      truthBots = canonical(sim.truthInput, true).filter(
        (x) => x.date >= '2026-11-08' && x.date <= '2026-11-10' && sim.truthInput.botVisitors.has(x.e.anonymous_id),
      ).length;
    });
    afterAll(() => rmSync(botsOnly, { recursive: true, force: true }));
    const range = ['--from', '2026-11-08', '--to', '2026-11-10'];

    it('under an empty table, with the count and where to see it per day', async () => {
      const r = await cli(['top_pages', ...range], { LOCAL_DATA_DIR: botsOnly });
      expect(r.code).toBe(0);
      expect(truthBots).toBeGreaterThan(20);
      expect(r.out).toContain('(0 rows)\n');
      expect(r.out).toContain(
        `(bots excluded: ${truthBots} events (${truthBots} page_view) from crawlers, headless browsers and automation; data_quality counts them per day)`,
      );
    });

    it("matching data_quality's bots column over the same days (what an Athena console user sums)", async () => {
      const dq = JSON.parse((await cli(['data_quality', ...range, '--format', 'json'], { LOCAL_DATA_DIR: dataDir })).out) as {
        bots: number;
      }[];
      const perDay = dq.reduce((a, d) => a + d.bots, 0);
      expect(perDay).toBeGreaterThan(0);
      const r = await cli(['devices', ...range], { LOCAL_DATA_DIR: dataDir });
      expect(r.out).toMatch(new RegExp(`\\(bots excluded: ${perDay} events? \\(`));
    });

    it('on stderr for csv and json, so the data stays parseable; and not for data_quality, which counts bots', async () => {
      const csv = await cli(['top_pages', ...range, '--format', 'csv'], { LOCAL_DATA_DIR: botsOnly });
      expect(csv.out).toBe('path,page_views,visitors\n');
      expect(csv.err).toContain(`bots excluded: ${truthBots} events`);
      const json = await cli(['top_pages', ...range, '--format', 'json'], { LOCAL_DATA_DIR: botsOnly });
      expect(JSON.parse(json.out)).toEqual([]);
      expect(json.err).toContain(`bots excluded: ${truthBots} events`);
      const dq = await cli(['data_quality', ...range], { LOCAL_DATA_DIR: botsOnly });
      expect(dq.out + dq.err).not.toContain('bots excluded');
    });

    it('for every business query, and only data_quality counts bots instead', () => {
      expect(queryNames().filter((n) => !excludesBots(loadQuery(n)))).toEqual(['data_quality']);
    });
  });

  it('quotes CSV cells that need it', () => {
    expect(formatResult({ columns: ['a', 'b'], rows: [['x,"y"', null]] }, 'csv')).toBe('a,b\n"x,""y""",\n');
  });

  it('exits non-zero from the real command line', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        join(ROOT, 'local/query.ts'),
        'no_such_query',
        '--from',
        '2026-11-01',
        '--to',
        '2026-11-02',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown query 'no_such_query'");
  });
});
