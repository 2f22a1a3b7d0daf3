/**
 * The stored row: what lands in S3 (one JSON object per line, gzip) and what the Glue table and
 * the local DuckDB view expose. Client columns must match eventSchema's fields (a test checks);
 * server columns are filled by handlers/lib/enrich.ts and are never taken from the client.
 *
 * Glue types are Hive DDL types (the Glue table, the Athena DDL and DuckDB's read_json columns are
 * generated from this list).
 */
export type GlueType = 'string' | 'bigint' | 'int' | 'boolean' | 'double';

export interface Column {
  name: string;
  type: GlueType;
  from: 'client' | 'server';
  comment: string;
}

const c = (name: string, type: GlueType, from: Column['from'], comment: string): Column => ({ name, type, from, comment });

export const EVENT_COLUMNS: readonly Column[] = [
  c('event_id', 'string', 'client', 'UUID from the client; de-duplication key'),
  c('type', 'string', 'client', 'page_view | click | custom | engagement | identify'),
  c('name', 'string', 'client', 'event name (custom events)'),
  c('site_id', 'string', 'server', 'site the batch was sent for (from the envelope, checked against the allowlist)'),
  c('event_time', 'string', 'server', 'skew-corrected event time, ISO-8601 UTC: ts + (received_at - sent_at)'),
  c('ts', 'string', 'client', 'client clock when it happened, as sent'),
  c('sent_at', 'string', 'server', 'client clock when the batch left (from the envelope)'),
  c('received_at', 'string', 'server', 'server clock when the request arrived, ISO-8601 UTC'),
  c('anonymous_id', 'string', 'client', 'browser-scoped random id'),
  c('session_id', 'string', 'client', 'SDK session id'),
  c('user_id', 'string', 'client', 'your user id after identify()'),
  c('url', 'string', 'client', 'page URL (configured parameters removed)'),
  c('host', 'string', 'server', 'host of url'),
  c('path', 'string', 'server', 'path of url'),
  c('referrer', 'string', 'client', 'document.referrer'),
  c('referrer_host', 'string', 'server', 'host of referrer'),
  c('title', 'string', 'client', 'page title'),
  c('element', 'string', 'client', 'click target name'),
  c('duration_ms', 'bigint', 'client', 'engagement time, or time on page before a click'),
  c('scroll_depth', 'int', 'client', 'deepest scroll, percent'),
  c('properties', 'string', 'client', "properties as a JSON string: json_extract_scalar(properties, '$.key')"),
  c('screen', 'string', 'client', 'screen WxH'),
  c('viewport', 'string', 'client', 'viewport WxH'),
  c('language', 'string', 'client', 'navigator.language'),
  c('timezone', 'string', 'client', 'IANA time zone'),
  c('sdk', 'string', 'client', 'SDK name/version'),
  c('browser', 'string', 'server', 'browser name, from the User-Agent header'),
  c('browser_version', 'string', 'server', 'browser major version'),
  c('os', 'string', 'server', 'operating system name'),
  c('os_version', 'string', 'server', 'operating system version'),
  c('device_type', 'string', 'server', 'desktop | mobile | tablet | bot | other'),
  c('is_bot', 'boolean', 'server', 'true exactly when bot_reason is not null'),
  c(
    'bot_reason',
    'string',
    'server',
    'why the row is a bot, first layer that matched: ua_list | headless | webdriver | datacenter_ip | referrer_spam | behaviour; null for humans',
  ),
  c('source', 'string', 'server', 'traffic source: utm_source, else click-id network, else referrer host, else (direct)'),
  c(
    'medium',
    'string',
    'server',
    'traffic medium: utm_medium, else cpc for click ids, else organic | social | email | referral | internal | (none)',
  ),
  c('campaign', 'string', 'server', 'utm_campaign'),
  c('utm_source', 'string', 'server', 'utm_source from url'),
  c('utm_medium', 'string', 'server', 'utm_medium from url'),
  c('utm_campaign', 'string', 'server', 'utm_campaign from url'),
  c('utm_term', 'string', 'server', 'utm_term from url'),
  c('utm_content', 'string', 'server', 'utm_content from url'),
  c('click_id_type', 'string', 'server', 'gclid | fbclid | msclkid | ttclid | li_fat_id | twclid | dclid | wbraid | gbraid'),
  c('referrer_type', 'string', 'server', 'direct | internal | search | social | email | referral'),
  c(
    'country',
    'string',
    'server',
    'ISO 3166-1 alpha-2 country of the client: CloudFront-Viewer-Country when the request came through CloudFront, else the bundled IP-to-country database; null when unknown. The IP itself is never stored',
  ),
  c(
    'region',
    'string',
    'server',
    'ISO 3166-2 subdivision (e.g. US-CA), from CloudFront-Viewer-Country-Region; null when the source gives none (the bundled database is country-level)',
  ),
  c('visitor_hash', 'string', 'server', 'sha256(daily salt, site, IP, User-Agent), 16 hex; the raw IP is never stored'),
  c('schema_version', 'int', 'server', 'wire contract version of the row (1)'),
];

/** rejects/: one row per rejected event (or per unreadable request), with the reason. */
export const REJECT_COLUMNS: readonly Column[] = [
  c('received_at', 'string', 'server', 'server clock when the request arrived'),
  c('site_id', 'string', 'server', 'site_id of the envelope, if readable'),
  c('event_index', 'int', 'server', 'index of the event in the batch; -1 for the whole request'),
  c('reason', 'string', 'server', 'why it was rejected'),
  c('event_id', 'string', 'server', 'event_id, if the event had a readable one'),
  c('event', 'string', 'server', 'the rejected event as JSON, truncated to 8 KiB'),
  c('request_id', 'string', 'server', 'API Gateway request id'),
];

/** Hive-style partitions written by Firehose (events/dt=YYYY-MM-DD/hour=HH/). Arrival time, UTC. */
export const PARTITION_COLUMNS: readonly Column[] = [
  c('dt', 'string', 'server', 'arrival date, UTC, YYYY-MM-DD (partition)'),
  c('hour', 'string', 'server', 'arrival hour, UTC, HH (partition)'),
];
