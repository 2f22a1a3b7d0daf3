/**
 * Ground truth: what each saved query must answer for simulated data, computed in plain
 * TypeScript from what the simulator knows (every event once, which visitors are bots), not from
 * the SQL. Definitions follow the header comments of athena-queries/*.sql; if one changes, the
 * other must, or the query tests fail.
 */
import { BOT_REASONS, type BotReason } from '../../handlers/lib/bots';
import type { RejectRow, StoredEvent } from '../../handlers/lib/pipeline';

export interface TruthInput {
  /** Every delivered copy of every accepted event. */
  events: readonly { row: StoredEvent; arrivalMs: number }[];
  rejects: readonly RejectRow[];
  /** anonymous_ids the generator made crawlers or automation. */
  botVisitors: ReadonlySet<string>;
  /** The bot_reason the generator's kind of bot must get (handlers/lib/bots.ts). */
  botReasons?: ReadonlyMap<string, BotReason>;
  /** The country each visitor's address was drawn from (local/simulator/geo.ts): not read from the rows. */
  visitorCountries?: ReadonlyMap<string, string>;
}

export interface Range {
  from: string;
  to: string;
  steps?: string[];
}

export type Row = Record<string, string | number | null>;

/** Bounce threshold: an `engagement` event shows engagement from this many ms (see sessions_summary.sql). */
export const ENGAGED_MS = 10_000;

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

/** data_quality's cross-request rate: people (not generated bots) with more than 120 page views in one UTC hour. */
const FAST_PAGE_VIEWS_PER_HOUR = 120;
function fastVisitors(list: readonly Ev[], input: TruthInput): number {
  const perHour = new Map<string, number>();
  for (const x of list) {
    if (x.e.type !== 'page_view' || input.botVisitors.has(x.e.anonymous_id)) continue;
    const key = `${x.e.visitor_hash}|${new Date(x.at).toISOString().slice(0, 13)}`;
    perHour.set(key, (perHour.get(key) ?? 0) + 1);
  }
  return new Set([...perHour].filter(([, n]) => n > FAST_PAGE_VIEWS_PER_HOUR).map(([k]) => k.split('|')[0])).size;
}
const day = (iso: string) => new Date(Date.parse(iso)).toISOString().slice(0, 10);
const inRange = (d: string, r: Range) => d >= r.from && d <= r.to;
const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

interface Ev {
  e: StoredEvent;
  at: number;
  date: string;
}

/** One copy per event_id (the first to arrive), humans only. */
export function canonical(input: TruthInput, includeBots = false): Ev[] {
  const first = new Map<string, { row: StoredEvent; arrivalMs: number }>();
  for (const d of input.events) {
    const prev = first.get(d.row.event_id);
    if (!prev || d.row.received_at < prev.row.received_at) first.set(d.row.event_id, d);
  }
  const out: Ev[] = [];
  for (const { row } of first.values()) {
    if (!includeBots && input.botVisitors.has(row.anonymous_id)) continue;
    out.push({ e: row, at: Date.parse(row.event_time), date: day(row.event_time) });
  }
  return out;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

const distinct = <T>(xs: readonly T[], f: (x: T) => string | undefined) => new Set(xs.map(f).filter((v) => v !== undefined)).size;
const byTime = (a: Ev, b: Ev) => a.at - b.at || cmp(a.e.event_id, b.e.event_id);

interface Session {
  id: string;
  date: string;
  started: number;
  ended: number;
  pageViews: Ev[];
  bounced: boolean;
}

function sessions(evs: Ev[], r: Range): Session[] {
  const out: Session[] = [];
  for (const [id, list] of groupBy(evs, (x) => x.e.session_id)) {
    list.sort(byTime);
    const pageViews = list.filter((x) => x.e.type === 'page_view');
    const started = list[0]!.at;
    const date = new Date(started).toISOString().slice(0, 10);
    if (pageViews.length === 0 || !inRange(date, r)) continue;
    const engaged = list.some(
      (x) => x.e.type === 'click' || x.e.type === 'custom' || (x.e.type === 'engagement' && (x.e.duration_ms ?? 0) >= ENGAGED_MS),
    );
    out.push({ id, date, started, ended: list[list.length - 1]!.at, pageViews, bounced: pageViews.length === 1 && !engaged });
  }
  return out;
}

function sorted(rows: Row[], ...keys: [string, 'asc' | 'desc'][]): Row[] {
  return rows.sort((a, b) => {
    for (const [k, dir] of keys) {
      const c = cmp(a[k] as string | number, b[k] as string | number);
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
}

type TruthFn = (input: TruthInput, r: Range) => Row[];

export const TRUTH: Record<string, TruthFn> = {
  daily_active_users(input, r) {
    const evs = canonical(input).filter((x) => inRange(x.date, r));
    return sorted(
      [...groupBy(evs, (x) => x.date)].map(([dt, list]) => ({
        dt,
        visitors: distinct(list, (x) => x.e.anonymous_id),
        sessions: distinct(list, (x) => x.e.session_id),
        page_views: list.filter((x) => x.e.type === 'page_view').length,
      })),
      ['dt', 'asc'],
    );
  },
  top_pages(input, r) {
    const pvs = canonical(input).filter((x) => x.e.type === 'page_view' && inRange(x.date, r));
    return sorted(
      [...groupBy(pvs, (x) => x.e.path ?? '')].map(([path, list]) => ({
        path,
        page_views: list.length,
        visitors: distinct(list, (x) => x.e.anonymous_id),
      })),
      ['page_views', 'desc'],
      ['path', 'asc'],
    );
  },
  traffic_sources(input, r) {
    const evs = canonical(input);
    const landings: Ev[] = [];
    for (const list of groupBy(
      evs.filter((x) => x.e.type === 'page_view'),
      (x) => x.e.session_id,
    ).values()) {
      const first = list.sort(byTime)[0]!;
      if (inRange(first.date, r)) landings.push(first);
    }
    const key = (x: Ev) => JSON.stringify([x.e.source, x.e.medium, x.e.campaign ?? '(not set)']);
    return sorted(
      [...groupBy(landings, key)].map(([k, list]) => {
        const [source, medium, campaign] = JSON.parse(k) as string[];
        return {
          source: source!,
          medium: medium!,
          campaign: campaign!,
          sessions: list.length,
          visitors: distinct(list, (x) => x.e.anonymous_id),
        };
      }),
      ['sessions', 'desc'],
      ['source', 'asc'],
      ['medium', 'asc'],
      ['campaign', 'asc'],
    );
  },
  sessions_summary(input, r) {
    const ss = sessions(canonical(input), r);
    return sorted(
      [...groupBy(ss, (s) => s.date)].map(([dt, list]) => ({
        dt,
        sessions: list.length,
        bounce_rate: round(list.filter((s) => s.bounced).length / list.length, 4),
        avg_session_seconds: round(list.reduce((a, s) => a + (s.ended - s.started), 0) / list.length / 1000, 1),
        pages_per_session: round(list.reduce((a, s) => a + s.pageViews.length, 0) / list.length, 2),
      })),
      ['dt', 'asc'],
    );
  },
  landing_pages(input, r) {
    const ss = sessions(canonical(input), r);
    return sorted(
      [...groupBy(ss, (s) => s.pageViews[0]!.e.path ?? '')].map(([path, list]) => ({
        path,
        entrances: list.length,
        bounce_rate: round(list.filter((s) => s.bounced).length / list.length, 4),
      })),
      ['entrances', 'desc'],
      ['path', 'asc'],
    );
  },
  exit_pages(input, r) {
    const ss = sessions(canonical(input), r);
    return sorted(
      [...groupBy(ss, (s) => s.pageViews[s.pageViews.length - 1]!.e.path ?? '')].map(([path, list]) => ({ path, exits: list.length })),
      ['exits', 'desc'],
      ['path', 'asc'],
    );
  },
  user_paths(input, r) {
    const counts = new Map<string, number>();
    for (const list of groupBy(
      canonical(input).filter((x) => x.e.type === 'page_view'),
      (x) => x.e.session_id,
    ).values()) {
      list.sort(byTime);
      for (let i = 0; i + 1 < list.length; i++) {
        if (!inRange(list[i]!.date, r)) continue;
        const k = JSON.stringify([list[i]!.e.path, list[i + 1]!.e.path]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    return sorted(
      [...counts].map(([k, transitions]) => {
        const [from_path, to_path] = JSON.parse(k) as string[];
        return { from_path: from_path!, to_path: to_path!, transitions };
      }),
      ['transitions', 'desc'],
      ['from_path', 'asc'],
      ['to_path', 'asc'],
    );
  },
  funnel(input, r) {
    const steps = (r.steps ?? []).filter((s) => s !== '');
    const matches = (x: Ev, step: string) => (x.e.type === 'page_view' ? x.e.path === step : x.e.name === step);
    const reached = steps.map(() => 0);
    for (const list of groupBy(
      canonical(input).filter((x) => inRange(x.date, r)),
      (x) => x.e.session_id,
    ).values()) {
      list.sort(byTime);
      let t = -Infinity;
      for (let i = 0; i < steps.length; i++) {
        const hit = list.find((x) => x.at > t && matches(x, steps[i]!));
        if (!hit) break;
        t = hit.at;
        reached[i]!++;
      }
    }
    return steps.map((step_name, i) => ({ step: i + 1, step_name, sessions: reached[i]! }));
  },
  retention_weekly(input, r) {
    const monday = (d: string) => {
      const ms = Date.parse(`${d}T00:00:00Z`);
      return new Date(ms - ((new Date(ms).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    };
    const weeks = new Map<string, Set<string>>();
    for (const x of canonical(input)) {
      if (!inRange(x.date, r)) continue;
      const set = weeks.get(x.e.anonymous_id) ?? new Set<string>();
      set.add(monday(x.date));
      weeks.set(x.e.anonymous_id, set);
    }
    const counts = new Map<string, number>();
    for (const set of weeks.values()) {
      const cohort = [...set].sort()[0]!;
      for (const w of set) {
        const k = `${cohort}|${Math.round((Date.parse(w) - Date.parse(cohort)) / (7 * 86_400_000))}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    return sorted(
      [...counts].map(([k, visitors]) => {
        const [cohort_week, off] = k.split('|');
        return { cohort_week: cohort_week!, week_offset: Number(off), visitors };
      }),
      ['cohort_week', 'asc'],
      ['week_offset', 'asc'],
    );
  },
  countries(input, r) {
    // The country the generator drew for the visitor, not the row's column: the test is that the
    // pipeline's lookup gives it back.
    const evs = canonical(input).filter((x) => inRange(x.date, r));
    const country = (x: Ev) => input.visitorCountries?.get(x.e.anonymous_id) ?? '(unknown)';
    return sorted(
      [...groupBy(evs, country)].map(([c, list]) => ({
        country: c,
        visitors: distinct(list, (x) => x.e.anonymous_id),
        sessions: distinct(list, (x) => x.e.session_id),
        page_views: list.filter((x) => x.e.type === 'page_view').length,
      })),
      ['visitors', 'desc'],
      ['country', 'asc'],
    );
  },
  devices(input, r) {
    const evs = canonical(input).filter((x) => inRange(x.date, r));
    const key = (x: Ev) => JSON.stringify([x.e.device_type ?? '(unknown)', x.e.browser ?? '(unknown)', x.e.os ?? '(unknown)']);
    return sorted(
      [...groupBy(evs, key)].map(([k, list]) => {
        const [device_type, browser, os] = JSON.parse(k) as string[];
        return { device_type: device_type!, browser: browser!, os: os!, visitors: distinct(list, (x) => x.e.anonymous_id) };
      }),
      ['visitors', 'desc'],
      ['device_type', 'asc'],
      ['browser', 'asc'],
      ['os', 'asc'],
    );
  },
  custom_events(input, r) {
    const evs = canonical(input).filter((x) => x.e.type === 'custom' && inRange(x.date, r));
    return sorted(
      [...groupBy(evs, (x) => x.e.name ?? '')].map(([name, list]) => ({
        name,
        events: list.length,
        visitors: distinct(list, (x) => x.e.anonymous_id),
      })),
      ['events', 'desc'],
      ['name', 'asc'],
    );
  },
  element_clicks(input, r) {
    const evs = canonical(input).filter((x) => x.e.type === 'click' && inRange(x.date, r));
    // Grouped by label, kind and page (see element_clicks.sql): the demo's menu card, Order button
    // and Add button share a dish's label.
    const key = (x: Ev) => JSON.stringify([x.e.element || '(unnamed)', x.e.name || '(unnamed)', x.e.path ?? null]);
    return sorted(
      [...groupBy(evs, key).values()].map((list) => ({
        element: list[0]!.e.element || '(unnamed)',
        name: list[0]!.e.name || '(unnamed)',
        path: list[0]!.e.path ?? null,
        clicks: list.length,
        visitors: distinct(list, (x) => x.e.anonymous_id),
        avg_time_spent_seconds: round(list.reduce((a, x) => a + (x.e.duration_ms ?? 0), 0) / list.length / 1000, 2),
      })),
      ['clicks', 'desc'],
      ['element', 'asc'],
      ['name', 'asc'],
      ['path', 'asc'],
    );
  },
  hourly_traffic(input, r) {
    const pvs = canonical(input).filter((x) => x.e.type === 'page_view' && inRange(x.date, r));
    return sorted(
      [...groupBy(pvs, (x) => String(new Date(x.at).getUTCHours()))].map(([hour, list]) => ({
        hour: Number(hour),
        page_views: list.length,
        visitors: distinct(list, (x) => x.e.anonymous_id),
      })),
      ['hour', 'asc'],
    );
  },
  data_quality(input, r) {
    const all = canonical(input, true);
    const copies = new Map<string, number>();
    for (const d of input.events) copies.set(d.row.event_id, (copies.get(d.row.event_id) ?? 0) + 1);
    const rejected = groupBy(
      input.rejects.filter((x) => inRange(day(x.received_at), r)),
      (x) => day(x.received_at),
    );
    const daily = groupBy(
      all.filter((x) => inRange(x.date, r)),
      (x) => x.date,
    );
    const dates = [...new Set([...daily.keys(), ...rejected.keys()])].sort();
    return dates.map((dt) => {
      const list = daily.get(dt) ?? [];
      const lat = list.map((x) => (Date.parse(x.e.received_at) - x.at) / 1000).sort((a, b) => a - b);
      // Nearest rank, as percentile_disc (DuckDB quantile_disc); Athena's approx_percentile is within its error of it.
      const q = (p: number) => (lat.length ? round(lat[Math.max(0, Math.ceil(p * lat.length) - 1)]!, 3) : null);
      const bots = list.filter((x) => input.botVisitors.has(x.e.anonymous_id));
      return {
        dt,
        accepted: list.length,
        rejected: rejected.get(dt)?.length ?? 0,
        duplicates: list.reduce((a, x) => a + (copies.get(x.e.event_id)! - 1), 0),
        bots: bots.length,
        bot_share: list.length ? round(bots.length / list.length, 4) : null,
        ...Object.fromEntries(
          BOT_REASONS.map((reason) => [`bots_${reason}`, bots.filter((x) => input.botReasons?.get(x.e.anonymous_id) === reason).length]),
        ),
        bots_no_reason: 0,
        fast_visitors: fastVisitors(list, input),
        p50_latency_seconds: q(0.5),
        p95_latency_seconds: q(0.95),
      };
    });
  },
};

// The funnel is the demo site's (local/demo/funnel.ts); re-exported for the simulator's callers.
export { DEMO_FUNNEL } from '../demo/funnel';
