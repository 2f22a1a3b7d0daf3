/**
 * Pipeline configuration, read once from the environment at cold start. A missing or malformed
 * variable throws ConfigError there, with the variable's name, rather than on the 10,000th request.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from './errors';
import type { CloudFrontTrust } from './geo';

export interface SiteRule {
  /** Allowed Origin values; `*` matches one DNS label or a port (letters, digits, `-`): no `.`, `/` or `:`. */
  origins: RegExp[];
  /** Requests without an Origin header (curl, servers); default false. Browsers always send Origin on POST. */
  allowNoOrigin: boolean;
}

export interface PipelineConfig {
  sites: ReadonlyMap<string, SiteRule>;
  /** Secret from which the daily visitor-hash salt is derived (HMAC(secret, date)). */
  saltSecret: string;
  /** URL query parameters removed before storage (lower-case names), e.g. email, token. */
  dropQueryParams: ReadonlySet<string>;
  /** Remove the whole query string (after reading utm_* and click ids). */
  dropQueryString: boolean;
  /** USER_ID_HASH=true: store HMAC(secret, user_id) instead of the user_id the site sent. */
  hashUserId: boolean;
  /** The IP-to-country table (handlers/lib/geo.ts), read on first lookup; undefined = GEO_DB_PATH=off. */
  geoDbPath?: string;
  /** Whether CloudFront's viewer headers are believed (handlers/lib/geo.ts resolveClient). */
  cloudFront: CloudFrontTrust;
  /** LOCAL_FORWARDED_FOR=true (local stack only): X-Forwarded-For from a loopback peer names the client. */
  localForwardedFor: boolean;
}

/** Where the table lives unless GEO_DB_PATH says otherwise: serverless.yml packages it there. */
export const DEFAULT_GEO_DB = 'geo/dbip-country.bin';

/**
 * GEO_DB_PATH: unset = geo/dbip-country.bin; a relative path is looked up from the working directory
 * (the checkout locally, /var/task on Lambda), then from LAMBDA_TASK_ROOT (serverless offline sets
 * that to a made-up /var/task, hence not first), then above this module (handlers/ in the bundle,
 * handlers/lib/ in the source: tools started from another directory); `off` = no lookup (country
 * null). A missing file fails the cold start here rather than the first request.
 */
function geoDbPath(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.GEO_DB_PATH || DEFAULT_GEO_DB;
  if (raw === 'off') return undefined;
  const tries = isAbsolute(raw)
    ? [raw]
    : [process.cwd(), ...(env.LAMBDA_TASK_ROOT ? [env.LAMBDA_TASK_ROOT] : []), join(__dirname, '..'), join(__dirname, '..', '..')].map(
        (dir) => join(dir, raw),
      );
  const path = tries.find((p) => existsSync(p));
  if (!path)
    throw new ConfigError(
      `GEO_DB_PATH: no IP-to-country table at ${tries.join(' or ')} (build it with npm run geo:update, or set GEO_DB_PATH=off)`,
    );
  return path;
}

export interface SiteSpec {
  origins?: string[];
  allowNoOrigin?: boolean;
}

/** The local default: site `demo` from localhost origins and from tools without an Origin. */
export const LOCAL_SITES: Record<string, SiteSpec> = {
  demo: { origins: ['http://localhost:*', 'http://127.0.0.1:*', 'http://localhost', 'http://127.0.0.1'], allowNoOrigin: true },
};

export function originPattern(origin: string): RegExp {
  // One label or port per `*`: `http://localhost:*` must not match `http://localhost:3000.evil.example`.
  const escaped = origin.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[a-z0-9-]+');
  return new RegExp(`^${escaped}$`, 'i');
}

function parseSites(raw: string | undefined): Map<string, SiteRule> {
  let spec: Record<string, SiteSpec>;
  try {
    spec = raw ? (JSON.parse(raw) as Record<string, SiteSpec>) : LOCAL_SITES;
  } catch (cause) {
    throw new ConfigError(`SITES must be JSON like {"my-site":{"origins":["https://www.example.com"]}}: ${(cause as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new ConfigError('SITES must be a JSON object keyed by site_id');
  const sites = new Map<string, SiteRule>();
  for (const [id, s] of Object.entries(spec)) {
    if (!Array.isArray(s?.origins ?? [])) throw new ConfigError(`SITES.${id}.origins must be an array of origins`);
    sites.set(id, { origins: (s.origins ?? []).map(originPattern), allowNoOrigin: s.allowNoOrigin === true });
  }
  return sites;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const saltSecret = env.VISITOR_SALT_SECRET;
  if (!saltSecret || saltSecret.length < 16) {
    throw new ConfigError('VISITOR_SALT_SECRET must be set (at least 16 characters): it keys the daily visitor-hash salt');
  }
  const list = (v: string | undefined) =>
    new Set(
      (v ?? '')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );
  return {
    sites: parseSites(env.SITES),
    saltSecret,
    dropQueryParams: list(env.URL_DROP_PARAMS),
    dropQueryString: env.URL_DROP_QUERY === 'true',
    hashUserId: env.USER_ID_HASH === 'true',
    geoDbPath: geoDbPath(env),
    cloudFront: { trust: env.TRUST_CLOUDFRONT_HEADERS === 'true', originSecret: env.CLOUDFRONT_ORIGIN_SECRET || undefined },
    localForwardedFor: env.LOCAL_FORWARDED_FOR === 'true',
  };
}

/**
 * RETRY_AFTER_SECONDS: the Retry-After of a 503 (events not stored, retry later). Whole seconds,
 * 1 to 3,600 (the SDK caps what it honours at one hour); default 1. A larger value spreads the
 * retries of every visitor's browser while Firehose is throttling.
 */
export function retryAfterSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RETRY_AFTER_SECONDS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 3600)
    throw new ConfigError(`RETRY_AFTER_SECONDS must be a whole number of seconds from 1 to 3600, not "${raw}"`);
  return n;
}

/** Reads a required variable at module scope of an entry point. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} must be set`);
  return value;
}
