/**
 * Server-side enrichment. Nothing here is taken on trust from the client: times are corrected
 * against the server clock, the device comes from the User-Agent header, and the visitor hash is
 * keyed by a salt that changes daily so the raw IP never needs to be stored.
 */
import { createHmac, hash } from 'node:crypto';
import { LIMITS, type ClickstreamEvent } from '../../schema/event';
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

/** Validated event + request facts -> stored row, or a rejection for checks the schema cannot express. */
export function enrichEvent(ev: ClickstreamEvent, facts: RequestFacts, config: PipelineConfig): Enriched {
  const tsMs = Date.parse(ev.ts);
  if (Number.isNaN(tsMs)) return { ok: false, reason: 'ts is not a valid instant' };
  const eventMs = tsMs + facts.skewMs;
  if (eventMs > facts.receivedAtMs + LIMITS.maxFutureSkewMs) return { ok: false, reason: `ts is in the future (more than ${LIMITS.maxFutureSkewMs / 60_000} minutes after sent_at)` };
  if (eventMs < facts.receivedAtMs - LIMITS.maxAgeMs) return { ok: false, reason: `ts is more than ${LIMITS.maxAgeMs / 86_400_000} days old` };

  let properties: string | undefined;
  if (ev.properties !== undefined) {
    properties = JSON.stringify(ev.properties);
    if (properties.length > LIMITS.maxPropertiesBytes) return { ok: false, reason: `properties is ${properties.length} bytes serialized; the limit is ${LIMITS.maxPropertiesBytes}` };
  }

  const a = attributeCached(ev.url, ev.referrer, config);
  const ua = facts.ua;
  return {
    ok: true,
    row: {
      event_id: ev.event_id.toLowerCase(),
      type: ev.type,
      name: ev.name,
      site_id: facts.siteId,
      event_time: isoTime(eventMs),
      ts: ev.ts,
      sent_at: facts.sentAt,
      received_at: facts.receivedAtIso,
      anonymous_id: ev.anonymous_id,
      session_id: ev.session_id,
      user_id: ev.user_id && config.hashUserId ? userIdHash(config.saltSecret, ev.user_id) : ev.user_id,
      url: a.url,
      host: a.host,
      path: a.path,
      referrer: a.referrer,
      referrer_host: a.referrer_host,
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
      browser: ua.browser,
      browser_version: ua.browser_version,
      os: ua.os,
      os_version: ua.os_version,
      device_type: ev.webdriver ? 'bot' : ua.device_type,
      is_bot: ua.is_bot || ev.webdriver === true,
      source: a.source,
      medium: a.medium,
      campaign: a.campaign,
      utm_source: a.utm_source,
      utm_medium: a.utm_medium,
      utm_campaign: a.utm_campaign,
      utm_term: a.utm_term,
      utm_content: a.utm_content,
      click_id_type: a.click_id_type,
      referrer_type: a.referrer_type,
      visitor_hash: facts.visitorHash,
      schema_version: 1,
    },
  };
}
