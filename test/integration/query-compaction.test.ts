/**
 * Compaction (npm run compact) changes where rows are read from, never the answers: every saved
 * query equals the simulator's ground truth on fully compacted, half-compacted and
 * open-day-compacted data, rows that arrive after their day was compacted count exactly once, and a
 * second run changes nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const [[lost]] = await rows(dir, 'SELECT count(*) FROM (SELECT DISTINCT dt, event_id FROM events EXCEPT SELECT dt, event_id FROM events_compacted)') as [[number]];
    expect(lost).toBe(0);
    // Raw objects of compacted days made unreadable: the business queries still run, so they read
    // none of them (data_quality reads the raw table by design, to count the copies).
    for (const f of objectsUnder(join(dir, 'events'), '.gz')) writeFileSync(f, 'not gzip: a compacted day must not be read raw');
    const db = await openLocalAthena(dir);
    try {
      // db.run, not runSaved: every raw object listed, so only the views' static dt filters keep
      // DuckDB from opening them (runSaved would not even list the compacted days).
      const unscoped = (name: string) => db.run(stripComments(loadQuery(name).sql), queryParams(loadQuery(name), full.from, full.to, name === 'funnel' ? DEMO_FUNNEL : []));
      for (const name of queryNames().filter((n) => n !== 'data_quality')) await expect(unscoped(name)).resolves.toBeDefined();
      await expect(unscoped('data_quality')).rejects.toThrow(/gzip|GZIP/);
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
