/**
 * Server-side enrichment. Nothing here is taken on trust from the client: times are corrected
 * against the server clock, the device comes from the User-Agent header, and the visitor hash is
 * keyed by a salt that changes daily so the raw IP never needs to be stored.
 */
import { createHmac, hash } from 'node:crypto';
import { LIMITS, type ClickstreamEvent } from '../../schema/event';
import { isReferrerSpam, type BotReason } from './bots';
import type { PipelineConfig } from './config';
import { attributeCached, type Attribution } from './traffic';
import type { UserAgentInfo } from './useragent';

/**
 * One stored row (schema/columns.ts EVENT_COLUMNS); undefined fields are omitted from the JSON.
 * The URL and traffic-source columns are traffic.ts's Attribution.
 */
export interface StoredEvent extends Attribution {
  event_id: string;
  type: string;
  name?: string;
  site_id: string;
  event_time: string;
  ts: string;
  sent_at: string;
  received_at: string;
  anonymous_id: string;
  session_id: string;
  user_id?: string;
  title?: string;
  element?: string;
  duration_ms?: number;
  scroll_depth?: number;
  properties?: string;
  screen?: string;
  viewport?: string;
  language?: string;
  timezone?: string;
  sdk?: string;
  browser?: string;
  browser_version?: string;
  os?: string;
  os_version?: string;
  device_type: string;
  is_bot: boolean;
  /** Why is_bot (handlers/lib/bots.ts); omitted for people, which a query reads as null. */
  bot_reason?: BotReason;
  /** ISO 3166-1 alpha-2 (handlers/lib/geo.ts); omitted when unknown, which a query reads as null. */
  country?: string;
  /** ISO 3166-2 (US-CA); omitted when the source gives none. */
  region?: string;
  visitor_hash: string;
  schema_version: number;
}

/** What every event of one request shares: computed once per request, not per event. */
export interface RequestFacts {
  siteId: string;
  sentAt: string;
  /** received_at - sent_at: how far the client clock is behind the server's. */
  skewMs: number;
  receivedAtMs: number;
  receivedAtIso: string;
  ua: UserAgentInfo;
  visitorHash: string;
  /** Omitted from the row when undefined, like every other column. */
  country?: string;
  region?: string;
  /** The request came from a cloud or hosting network (bots.ts isDatacenterIp). */
  datacenter?: boolean;
  /** The batch showed a rate no person reaches (bots.ts batchBehaviour). */
  behaviour?: boolean;
  /** The request's columns as a JSON fragment per bot reason ('' for people): made by the first event that needs one. */
  fragments?: Partial<Record<BotReason | '', string>>;
}

// The last salt made, with its UTC day number and secret. One process may serve several configs
// (simulator, benchmarks, a rotated secret), so the secret is part of the key; yesterday's salt is
// never needed again, so one entry is enough.
let saltDay = Number.NaN;
let saltSecret = '';
let salt = '';

/** Daily salt = HMAC(secret, UTC date). */
export function dailySalt(secret: string, at: Date): string {
  // Comparing day numbers avoids formatting the date on every request; an invalid Date (NaN) never
  // matches and throws RangeError from toISOString below, as before.
  const dayNo = Math.floor(at.getTime() / 86_400_000);
  if (dayNo === saltDay && secret === saltSecret) return salt;
  const day = at.toISOString().slice(0, 10);
  salt = createHmac('sha256', secret).update(day).digest('hex');
  saltDay = dayNo;
  saltSecret = secret;
  return salt;
}

export function visitorHash(secret: string, at: Date, siteId: string, ip: string, userAgent: string): string {
  // crypto.hash (Node >= 20.12): the one-shot form of createHash().update().digest(), same bytes.
  return hash('sha256', `${dailySalt(secret, at)}|${siteId}|${ip}|${userAgent}`, 'hex').slice(0, 16);
}

/**
 * Pseudonymous user id (USER_ID_HASH=true): HMAC-SHA256(secret, user_id), 32 hex characters.
 * Stable across days, unlike the visitor hash, so per-user queries still join; keyed, so a list
 * of known e-mails cannot be hashed and matched without the secret. Rotating the secret changes it.
 */
export function userIdHash(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(`user_id|${userId}`).digest('hex').slice(0, 32);
}

const HOUR_MS = 3_600_000;
let hourStart = Number.NaN;
let hourPrefix = '';
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, cheaper for times in the same UTC hour as the previous call (the
 * events of a request, and of most requests, fall in one hour): the `YYYY-MM-DDTHH:` prefix is
 * formatted once per hour and only minutes, seconds and milliseconds per call.
 *
 * @throws RangeError for an invalid time, as toISOString does.
 * @example
 * isoTime(Date.UTC(2026, 10, 22, 10, 0, 5, 120)); // '2026-11-22T10:00:05.120Z'
 */
export function isoTime(ms: number): string {
  const inHour = ms - hourStart;
  if (inHour >= 0 && inHour < HOUR_MS && Number.isInteger(inHour)) {
    const min = Math.floor(inHour / 60_000);
    const msInMin = inHour - min * 60_000;
    const sec = Math.floor(msInMin / 1_000);
    const milli = msInMin - sec * 1_000;
    return `${hourPrefix}${pad2(min)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
  const iso = new Date(ms).toISOString();
  // Only 4-digit years have the fixed 24-character layout; others (+YYYYYY) are never cached.
  if (iso.length === 24 && Number.isInteger(ms)) {
    hourStart = Math.floor(ms / HOUR_MS) * HOUR_MS;
    hourPrefix = iso.slice(0, 14);
  }
  return iso;
}

export type Enriched = { ok: true; row: StoredEvent } | { ok: false; reason: string };
export type EnrichedLine = { ok: true; line: string } | { ok: false; reason: string };

/** `{"a":1,"b":2}` -> `"a":1,"b":2`: an object's members, to splice into another object's JSON. */
const members = (o: object) => JSON.stringify(o).slice(1, -1);

/**
 * The columns every event of a request shares, as a JSON fragment made once per request (once
 * more for each other bot reason its events get: the webdriver hint and the referrer are per event).
 */
function requestFragment(facts: RequestFacts, reason: BotReason | undefined): string {
  facts.fragments ??= {};
  const cache = facts.fragments;
  const key = reason ?? '';
  const made = cache[key];
  if (made !== undefined) return made;
  const ua = facts.ua;
  const fragment = members({
    site_id: facts.siteId,
    sent_at: facts.sentAt,
    received_at: facts.receivedAtIso,
    browser: ua.browser,
    browser_version: ua.browser_version,
    os: ua.os,
    os_version: ua.os_version,
    device_type: reason ? 'bot' : ua.device_type,
    is_bot: reason !== undefined,
    bot_reason: reason,
    country: facts.country,
    region: facts.region,
    visitor_hash: facts.visitorHash,
    schema_version: 1,
  });
  cache[key] = fragment;
  return fragment;
}

// attributeCached shares one frozen Attribution per url+referrer pair, so its JSON is made once too,
// and so is the referrer-spam answer: one lookup per event for both.
interface AttributionFacts {
  json: string;
  spamReferrer: boolean;
}
const attributionFacts = new WeakMap<Readonly<Attribution>, AttributionFacts>();
function attributionOf(a: Readonly<Attribution>): AttributionFacts {
  let f = attributionFacts.get(a);
  if (f === undefined) {
    f = { json: members(a), spamReferrer: isReferrerSpam(a.referrer_host) };
    attributionFacts.set(a, f);
  }
  return f;
}

/** The first bot layer that matches (order: bots.ts BOT_REASONS), or undefined for a person. */
function botReason(facts: RequestFacts, webdriver: boolean, spamReferrer: boolean): BotReason | undefined {
  if (facts.ua.bot_reason) return facts.ua.bot_reason;
  if (webdriver) return 'webdriver';
  if (facts.datacenter) return 'datacenter_ip';
  if (spamReferrer) return 'referrer_spam';
  return facts.behaviour ? 'behaviour' : undefined;
}

/**
 * Validated event + request facts -> the stored row as one NDJSON line (no newline), or a rejection
 * for checks the schema cannot express. Only the event's own columns are serialized per event; the
 * request's and the url+referrer's columns (more than half of a row, with the longest strings) are
 * spliced in as JSON made once. Undefined columns are omitted, as JSON.stringify omits them.
 */
export function enrichLine(ev: ClickstreamEvent, facts: RequestFacts, config: PipelineConfig): EnrichedLine {
  const tsMs = Date.parse(ev.ts);
  if (Number.isNaN(tsMs)) return { ok: false, reason: 'ts is not a valid instant' };
  const eventMs = tsMs + facts.skewMs;
  if (eventMs > facts.receivedAtMs + LIMITS.maxFutureSkewMs)
    return { ok: false, reason: `ts is in the future (more than ${LIMITS.maxFutureSkewMs / 60_000} minutes after sent_at)` };
  if (eventMs < facts.receivedAtMs - LIMITS.maxAgeMs)
    return { ok: false, reason: `ts is more than ${LIMITS.maxAgeMs / 86_400_000} days old` };

  let properties: string | undefined;
  if (ev.properties !== undefined) {
    properties = JSON.stringify(ev.properties);
    if (properties.length > LIMITS.maxPropertiesBytes)
      return { ok: false, reason: `properties is ${properties.length} bytes serialized; the limit is ${LIMITS.maxPropertiesBytes}` };
  }

  const own = JSON.stringify({
    event_id: ev.event_id.toLowerCase(),
    type: ev.type,
    name: ev.name,
    event_time: isoTime(eventMs),
    ts: ev.ts,
    anonymous_id: ev.anonymous_id,
    session_id: ev.session_id,
    user_id: ev.user_id && config.hashUserId ? userIdHash(config.saltSecret, ev.user_id) : ev.user_id,
    title: ev.title,
    element: ev.element,
    duration_ms: ev.duration_ms,
    scroll_depth: ev.scroll_depth,
    properties,
    screen: ev.screen,
    viewport: ev.viewport,
    language: ev.language,
    timezone: ev.timezone,
    sdk: ev.sdk,
  });
  // Both fragments are never empty (referrer_type, source and medium; site_id and the rest).
  const a = attributionOf(attributeCached(ev.url, ev.referrer, config));
  const shared = `${a.json},${requestFragment(facts, botReason(facts, ev.webdriver === true, a.spamReferrer))}}`;
  return { ok: true, line: `${own.slice(0, -1)},${shared}` };
}

/** {@link enrichLine}, read back as the row a query sees. */
export function enrichEvent(ev: ClickstreamEvent, facts: RequestFacts, config: PipelineConfig): Enriched {
  const r = enrichLine(ev, facts, config);
  return r.ok ? { ok: true, row: JSON.parse(r.line) as StoredEvent } : r;
}
