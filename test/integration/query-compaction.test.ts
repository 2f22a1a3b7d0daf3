/**
 * Compaction (npm run compact) changes where rows are read from, never the answers: every saved
 * query equals the simulator's ground truth on fully compacted, half-compacted and
 * open-day-compacted data, rows that arrive after their day was compacted count exactly once, and a
 * second run changes nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openLocalAthena, stripComments } from '../../local/athena-local/duckdb';
import { loadQuery, queryNames, queryParams, runSaved } from '../../local/athena-local/queries';
import { compact, isComplete, rawDays } from '../../local/compact';
import { objectsUnder } from '../../local/firehose/layout';
import { diffRows } from '../../local/simulator/compare';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate, type SimulationResult } from '../../local/simulator/index';
import { DEMO_FUNNEL, TRUTH, type Range } from '../../local/simulator/truth';

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 300, days: 21, end: '2026-11-15', seed: 7 };
const full: Range = rangeOf(SIM);
const part: Range = { from: '2026-11-04', to: '2026-11-10' };
// Long after the simulated range: every raw day is closed.
const LATER = new Date('2026-11-25T12:00:00.000Z');

describe('compaction keeps every saved query equal to the ground truth', () => {
  let root: string;
  let sim: SimulationResult;

  const copyOfRaw = (name: string) => {
    const dir = join(root, name);
    cpSync(join(root, 'raw'), dir, { recursive: true });
    return dir;
  };
  /** Every saved query over the whole range and a part of it, against the truth. */
  async function expectTruth(dir: string): Promise<void> {
    const db = await openLocalAthena(dir);
    try {
      const problems: string[] = [];
      for (const name of queryNames()) {
        for (const r of [full, part]) {
          const range = name === 'funnel' ? { ...r, steps: DEMO_FUNNEL } : r;
          const want = TRUTH[name]!(sim.truthInput, range);
          problems.push(...diffRows(`${name} ${r.from}..${r.to}`, await runSaved(db, name, r.from, r.to, range.steps ?? []), want));
        }
      }
      expect(problems).toEqual([]);
    } finally {
      db.close();
    }
  }
  const rows = async (dir: string, sql: string) => {
    const db = await openLocalAthena(dir);
    try {
      return (await db.run(sql)).rows;
    } finally {
      db.close();
    }
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cs-compaction-'));
    sim = simulate(SIM, join(root, 'raw'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('all closed days compacted: same answers, nothing lost, the views read Parquet only', async () => {
    const dir = copyOfRaw('full');
    const r = await compact(dir, { now: LATER });
    expect(r.compacted).toEqual(rawDays(dir));
    expect(r.seam).toMatchObject({ compacted_from: rawDays(dir)[0], compacted_to: rawDays(dir).at(-1) });
    await expectTruth(dir);
    // analyst.compaction_rows_lost: every distinct event_id of the raw objects is in the compacted table.
    const [[lost]] = (await rows(
      dir,
      'SELECT count(*) FROM (SELECT DISTINCT dt, event_id FROM events EXCEPT SELECT dt, event_id FROM events_compacted)',
    )) as [[number]];
    expect(lost).toBe(0);
    // Raw objects of compacted days made unreadable: every saved query still runs, so none reads
    // them (data_quality too: it counts the copies from what the compaction kept, events_copies).
    for (const f of objectsUnder(join(dir, 'events'), '.gz')) writeFileSync(f, 'not gzip: a compacted day must not be read raw');
    const db = await openLocalAthena(dir);
    try {
      // db.run, not runSaved: every raw object listed, so only the views' static dt filters keep
      // DuckDB from opening them (runSaved would not even list the compacted days).
      const unscoped = (name: string) =>
        db.run(stripComments(loadQuery(name).sql), queryParams(loadQuery(name), full.from, full.to, name === 'funnel' ? DEMO_FUNNEL : []));
      for (const name of queryNames()) await expect(unscoped(name)).resolves.toBeDefined();
      // The check can fail: the raw table itself now throws on those objects.
      await expect(db.run('SELECT count(*) FROM events')).rejects.toThrow(/gzip|GZIP/);
    } finally {
      db.close();
    }
  });

  it('half compacted (the seam inside the ranges): same answers', async () => {
    const dir = copyOfRaw('half');
    const r = await compact(dir, { now: LATER, through: '2026-11-05' });
    expect(r.seam.compacted_to).toBe('2026-11-05');
    await expectTruth(dir);
  });

  it('a day compacted while open keeps later rows on the raw side, counts rows sent afterwards once, and completes on a later run', async () => {
    const dir = copyOfRaw('open');
    const day = '2026-11-14';
    // Objects of the afternoon have not arrived yet when the day is compacted at noon.
    const later = join(root, 'afternoon');
    for (const h of readdirSync(join(dir, 'events', `dt=${day}`))) {
      if (h >= 'hour=12') {
        mkdirSync(later, { recursive: true });
        renameSync(join(dir, 'events', `dt=${day}`, h), join(later, h));
      }
    }
    const noon = new Date(`${day}T12:00:00.000Z`);
    const first = await compact(dir, { now: noon, through: day });
    expect(first.seam.compacted_to).toBe(day);
    expect(isComplete(day, first.seam.cutoff)).toBe(false);
    // They arrive: read from the raw side at once, exactly once.
    for (const h of readdirSync(later)) renameSync(join(later, h), join(dir, 'events', `dt=${day}`, h));
    await expectTruth(dir);
    // The next runs: the day is compacted again, now closed and complete.
    const second = await compact(dir, { now: LATER });
    expect(second.compacted).toContain(day);
    expect(isComplete(day, second.seam.cutoff) || second.seam.compacted_to > day).toBe(true);
    await expectTruth(dir);
  });

  it("data_quality is identical when copies of one event differ, arrive on two days and straddle an open day's cutoff", async () => {
    // One event, three copies: an SDK re-send judged a bot by the rate layer with another skew
    // correction, received after the noon compaction; another the next day under a new daily salt.
    // Plus a Firehose double write (identical copies) and a plain event.
    const base = join(root, 'copies');
    const put = (dt: string, hour: string, ...events: object[]) => {
      const folder = join(base, 'events', `dt=${dt}`, `hour=${hour}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(
        join(folder, `clickstream-test-events-1-${dt}-${hour}-00-00-${Math.random().toString(16).slice(2)}.gz`),
        gzipSync(events.map((e) => `${JSON.stringify(e)}\n`).join('')),
      );
    };
    const pv = (id: string, eventTime: string, receivedAt: string, more: object = {}) => ({
      event_id: id,
      type: 'page_view',
      event_time: eventTime,
      received_at: receivedAt,
      anonymous_id: 'a-1',
      session_id: 's-1',
      is_bot: false,
      path: '/',
      url: 'https://demo.example/',
      source: 'direct',
      medium: 'none',
      duration_ms: 0,
      visitor_hash: 'vh-b',
      ...more,
    });
    put('2026-11-13', '08', pv('z', '2026-11-13T08:00:00.000Z', '2026-11-13T08:00:01.000Z'));
    put(
      '2026-11-14',
      '10',
      pv('x', '2026-11-14T10:00:00.000Z', '2026-11-14T10:00:05.000Z'),
      pv('y', '2026-11-14T10:01:00.000Z', '2026-11-14T10:01:01.000Z'),
    );
    put('2026-11-14', '10', pv('y', '2026-11-14T10:01:00.000Z', '2026-11-14T10:01:01.000Z'));
    put(
      '2026-11-14',
      '15',
      pv('x', '2026-11-14T09:59:59.500Z', '2026-11-14T15:00:00.000Z', { is_bot: true, bot_reason: 'behaviour', visitor_hash: 'vh-a' }),
    );
    put('2026-11-15', '00', pv('x', '2026-11-14T10:00:00.200Z', '2026-11-15T00:10:00.000Z', { visitor_hash: 'vh-0' }));
    const range = { from: '2026-11-13', to: '2026-11-15' };
    const dataQuality = async (dir: string) => {
      const db = await openLocalAthena(dir);
      try {
        return await runSaved(db, 'data_quality', range.from, range.to);
      } finally {
        db.close();
      }
    };
    const raw = await dataQuality(base);
    const col = (name: string) => raw.rows.map((r) => r[raw.columns.indexOf(name)]);
    // The raw answer, by hand: x counts once on the 14th, with its three copies, as a bot (one copy
    // was judged one), at its earliest event_time and received_at.
    expect(col('dt')).toEqual(['2026-11-13', '2026-11-14']);
    expect(col('accepted')).toEqual([1, 2]);
    expect(col('duplicates')).toEqual([0, 3]);
    expect(col('bots_behaviour')).toEqual([0, 1]);
    expect(col('p95_latency_seconds')).toEqual([1, 5.5]);

    const layouts: [string, (dir: string) => Promise<unknown>][] = [
      ['full', (dir) => compact(dir, { now: LATER })],
      ['half', (dir) => compact(dir, { now: LATER, through: '2026-11-14' })],
      ['open', (dir) => compact(dir, { now: new Date('2026-11-14T12:00:00.000Z'), through: '2026-11-14' })],
      [
        'open, then closed',
        async (dir) => {
          await compact(dir, { now: new Date('2026-11-14T12:00:00.000Z'), through: '2026-11-14' });
          await compact(dir, { now: LATER });
        },
      ],
    ];
    for (const [name, run] of layouts) {
      const dir = join(root, `copies-${name.replace(/\W+/g, '-')}`);
      cpSync(base, dir, { recursive: true });
      await run(dir);
      expect({ name, compacted: existsSync(join(dir, 'compacted', 'events_compacted', 'dt=2026-11-14')) }).toEqual({
        name,
        compacted: true,
      });
      expect({ name, ...(await dataQuality(dir)) }).toEqual({ name, ...raw });
    }
  });

  it("data_quality dates an event by its first copy and rates a visitor by the least visitor hash of each page view's copies, raw and compacted", async () => {
    const base = join(root, 'per-event');
    const put = (dt: string, hour: string, events: object[]) => {
      const folder = join(base, 'events', `dt=${dt}`, `hour=${hour}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(
        join(folder, `clickstream-test-events-1-${dt}-${hour}-00-00-${Math.random().toString(16).slice(2)}.gz`),
        gzipSync(events.map((e) => `${JSON.stringify(e)}\n`).join('')),
      );
    };
    const pv = (id: string, eventTime: string, receivedAt: string, visitorHash: string) => ({
      event_id: id,
      type: 'page_view',
      event_time: eventTime,
      received_at: receivedAt,
      anonymous_id: 'a-1',
      session_id: 's-1',
      is_bot: false,
      path: '/',
      url: 'https://demo.example/',
      source: 'direct',
      medium: 'none',
      duration_ms: 0,
      visitor_hash: visitorHash,
    });
    // w: copies on both sides of midnight by event_time (two skew corrections), both arriving on the 14th.
    put('2026-11-14', '00', [
      pv('w', '2026-11-13T23:59:59.900Z', '2026-11-14T00:00:00.100Z', 'vh-w'),
      pv('w', '2026-11-14T00:00:00.050Z', '2026-11-14T00:00:03.000Z', 'vh-w'),
    ]);
    // 121 page views in one hour: 61 of them have a second copy under another daily salt (vh-c).
    // By the least hash per event, vh-a has all 121 (a fast visitor); by the greatest, 60 and 61.
    const at = (i: number) => `2026-11-14T09:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`;
    const ids = Array.from({ length: 121 }, (_, i) => `p${i}`);
    put(
      '2026-11-14',
      '09',
      ids.map((id, i) => pv(id, at(i), at(i), 'vh-a')),
    );
    put(
      '2026-11-14',
      '10',
      ids.slice(0, 61).map((id, i) => pv(id, at(i), '2026-11-14T10:00:00.000Z', 'vh-c')),
    );
    for (const layout of ['raw', 'compacted']) {
      if (layout === 'compacted') await compact(base, { now: LATER });
      const db = await openLocalAthena(base);
      try {
        const r = await runSaved(db, 'data_quality', '2026-11-13', '2026-11-14');
        const col = (name: string) => r.rows.map((x) => x[r.columns.indexOf(name)]);
        expect({ layout, dt: col('dt'), accepted: col('accepted'), duplicates: col('duplicates'), fast: col('fast_visitors') }).toEqual({
          layout,
          dt: ['2026-11-13', '2026-11-14'],
          accepted: [1, 121],
          duplicates: [1, 61],
          fast: [0, 1],
        });
      } finally {
        db.close();
      }
    }
  });

  it('sessions compacted before sessions_compacted had page_views (NULL there, as after ALTER TABLE ADD COLUMNS): same answers', async () => {
    const dir = copyOfRaw('before-page-views');
    await compact(dir, { now: LATER });
    const db = await openLocalAthena(dir);
    try {
      // Each day's object rewritten without the column, as the first deploys wrote it.
      for (const f of objectsUnder(join(dir, 'compacted', 'sessions_compacted'), '.parquet')) {
        await db.connection.run(`COPY (SELECT * EXCLUDE (page_views) FROM read_parquet('${f}')) TO '${f}.old' (FORMAT parquet)`);
        renameSync(`${f}.old`, f);
      }
    } finally {
      db.close();
    }
    const [[nulls, all]] = (await rows(dir, 'SELECT count(*) FILTER (WHERE page_views IS NULL), count(*) FROM sessions_compacted')) as [
      [number, number],
    ];
    expect(nulls).toBe(all);
    await expectTruth(dir);
  });

  it('running it twice changes nothing', async () => {
    const dir = copyOfRaw('twice');
    await compact(dir, { now: LATER });
    const objects = () => objectsUnder(join(dir, 'compacted')).map((f) => `${f} ${statSync(f).mtimeMs} ${statSync(f).size}`);
    const before = objects();
    const again = await compact(dir, { now: LATER });
    expect(again.compacted).toEqual([]);
    expect(objects()).toEqual(before);
    expect(existsSync(join(dir, 'events'))).toBe(true);
  });
});
