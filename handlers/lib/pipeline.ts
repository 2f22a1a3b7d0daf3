/**
 * The pure core of ingestion: request in, response plus rows out. parse -> validate (per event)
 * -> enrich. No I/O, no AWS: the Lambda handler delivers the rows, and the simulator, benchmarks
 * and tests call this directly.
 */
import type { PipelineConfig } from './config';
import { batchBehaviour, isDatacenterIp } from './bots';
import { enrichLine, isoTime, visitorHash, type RequestFacts, type StoredEvent } from './enrich';
import { countryLookup, forwardedForFromLoopback, resolveClient, type GeoHeaders } from './geo';
import { BadRequestError, ForbiddenError, HttpError } from './errors';
import { parseEnvelope, type RequestBody } from './parse';
import { parseUserAgent } from './useragent';
import { checkEvent } from './validate';

export { configFromEnv } from './config';
export type { PipelineConfig } from './config';
export type { StoredEvent } from './enrich';

export interface RequestInput extends RequestBody {
  userAgent?: string;
  sourceIp?: string;
  /** CloudFront's viewer headers, when present (used only if config.cloudFront trusts them), and X-Forwarded-For (local switch). */
  headers?: GeoHeaders;
  origin?: string;
  requestId?: string;
  receivedAt: Date;
}

/** One row of rejects/ (schema/columns.ts REJECT_COLUMNS). */
export interface RejectRow {
  received_at: string;
  site_id?: string;
  event_index: number;
  reason: string;
  event_id?: string;
  event?: string;
  request_id?: string;
}

export interface Rejection {
  index: number;
  reason: string;
}

export type IngestResponse = { accepted: number; rejected: Rejection[] } | { error: string };

export interface PipelineResult {
  status: number;
  response: IngestResponse;
  /** The accepted events as stored: one NDJSON line each, without the newline (packLines). */
  lines: string[];
  /** The same rows read back as objects (parsed on first use: the handler only needs `lines`). */
  readonly events: StoredEvent[];
  rejects: RejectRow[];
  /** The site, once known (for logs). */
  siteId?: string;
}

const REJECT_SNIPPET_BYTES = 8_192;

function checkSite(siteId: string, origin: string | undefined, config: PipelineConfig) {
  const rule = config.sites.get(siteId);
  if (!rule) throw new ForbiddenError(`site_id '${siteId}' is not configured`);
  if (origin === undefined || origin === '') {
    if (!rule.allowNoOrigin) throw new ForbiddenError(`site '${siteId}' accepts browser requests only (Origin header required)`);
  } else if (!rule.origins.some((re) => re.test(origin))) {
    throw new ForbiddenError(`origin ${origin} is not allowed for site '${siteId}'`);
  }
}

function snippet(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    // JSON.parse accepts nesting that JSON.stringify cannot walk back (about 5,000 levels overflow
    // V8's stack): a rejected event must still become a reject row, not a 500 the SDK retries forever.
    s = '(event not shown: nested too deeply to serialize)';
  }
  return s.length > REJECT_SNIPPET_BYTES ? s.slice(0, REJECT_SNIPPET_BYTES) : s;
}

export function processRequest(input: RequestInput, config: PipelineConfig): PipelineResult {
  // isoTime: toISOString with the hour's prefix cached (the pipeline's hot path formats many times per hour).
  const receivedAtIso = isoTime(input.receivedAt.getTime());
  let siteId: string | undefined;
  try {
    const envelope = parseEnvelope(input);
    siteId = envelope.site_id;
    checkSite(siteId, input.origin, config);
    const sentMs = Date.parse(envelope.sent_at);
    if (Number.isNaN(sentMs)) throw new BadRequestError('sent_at is not a valid instant');

    const userAgent = input.userAgent ?? '';
    // The client IP stays in this scope: it keys the visitor hash and the country, and is not stored.
    const sourceIp = config.localForwardedFor ? forwardedForFromLoopback(input.sourceIp, input.headers) : input.sourceIp;
    const client = resolveClient(
      sourceIp,
      input.headers,
      config.cloudFront,
      config.geoDbPath === undefined ? undefined : countryLookup(config.geoDbPath),
    );
    const facts: RequestFacts = {
      siteId,
      sentAt: envelope.sent_at,
      skewMs: input.receivedAt.getTime() - sentMs,
      receivedAtMs: input.receivedAt.getTime(),
      receivedAtIso,
      ua: parseUserAgent(userAgent),
      visitorHash: visitorHash(config.saltSecret, input.receivedAt, siteId, client.ip, userAgent),
      country: client.country ?? undefined,
      region: client.region ?? undefined,
      // The viewer's address behind a trusted CloudFront, not sourceIp: that is then CloudFront's edge
      // (sourceIp is the TCP peer of API Gateway; "Add CloudFront request headers", CloudFront guide).
      datacenter: isDatacenterIp(client.ip),
      behaviour: batchBehaviour(envelope.events),
    };

    const lines: string[] = [];
    const rejects: RejectRow[] = [];
    const rejected: Rejection[] = [];
    const seen = new Set<string>();
    envelope.events.forEach((raw, index) => {
      const checked = checkEvent(raw);
      let reason: string;
      if (checked.ok) {
        const id = checked.value.event_id.toLowerCase();
        if (seen.has(id)) {
          reason = 'duplicate event_id in this batch';
        } else {
          const enriched = enrichLine(checked.value, facts, config);
          if (enriched.ok) {
            seen.add(id);
            lines.push(enriched.line);
            return;
          }
          reason = enriched.reason;
        }
      } else {
        reason = checked.reason;
      }
      rejected.push({ index, reason });
      const eventId = (raw as { event_id?: unknown } | null)?.event_id;
      rejects.push({
        received_at: receivedAtIso,
        site_id: siteId,
        event_index: index,
        reason,
        event_id: typeof eventId === 'string' ? eventId.slice(0, 64) : undefined,
        event: snippet(raw),
        request_id: input.requestId,
      });
    });
    return withRows({ status: 200, response: { accepted: lines.length, rejected }, lines, rejects, siteId });
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return withRows({
      status: err.statusCode,
      response: { error: err.message },
      lines: [],
      rejects: [
        {
          received_at: receivedAtIso,
          site_id: siteId,
          event_index: -1,
          reason: err.message,
          event: input.body == null ? undefined : snippet(input.body.slice(0, REJECT_SNIPPET_BYTES)),
          request_id: input.requestId,
        },
      ],
      siteId,
    });
  }
}

/** Adds the lazily parsed `events` view of `lines`. */
function withRows(r: Omit<PipelineResult, 'events'>): PipelineResult {
  let rows: StoredEvent[] | undefined;
  return Object.defineProperty(r, 'events', {
    enumerable: true,
    get: () => (rows ??= r.lines.map((l) => JSON.parse(l) as StoredEvent)),
  }) as PipelineResult;
}
