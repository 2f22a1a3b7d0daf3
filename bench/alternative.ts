/**
 * The straightforward handler we compare against: the same schema validated by Ajv compiled at
 * start-up (allErrors, so every event is checked fully), and the User-Agent parsed again for every
 * event with a fresh UAParser and no cache. Enrichment and packing are the real ones, so the gap
 * measures only validation style and per-event UA parsing.
 */
import Ajv from 'ajv';
import { UAParser } from 'ua-parser-js';
import { batchSchema, eventSchema, type ClickstreamEvent } from '../schema/event';
import { enrichEvent, visitorHash, type RequestFacts, type StoredEvent } from '../handlers/lib/enrich';
import type { PipelineConfig } from '../handlers/lib/pipeline';
import { isBotUserAgent, type UserAgentInfo } from '../handlers/lib/useragent';
import { packRecords } from '../handlers/lib/pack';
import { geoTable, lookupCountry } from '../handlers/lib/geo';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const checkBatch = ajv.compile(batchSchema as object);
const checkEvent = ajv.compile(eventSchema as object);

function parseUa(ua: string): UserAgentInfo {
  const is_bot = isBotUserAgent(ua);
  const r = new UAParser(ua).getResult();
  const t = r.device.type;
  return {
    browser: r.browser.name,
    browser_version: r.browser.major,
    os: r.os.name,
    os_version: r.os.version,
    is_bot,
    device_type: is_bot ? 'bot' : t === undefined ? 'desktop' : t === 'mobile' ? 'mobile' : t === 'tablet' ? 'tablet' : 'other',
  };
}

export function naiveHandle(body: string, userAgent: string, sourceIp: string, config: PipelineConfig): Buffer[] {
  const receivedAt = new Date();
  const data = JSON.parse(body) as { site_id: string; sent_at: string; events: unknown[] };
  if (!checkBatch(data)) throw new Error(ajv.errorsText(checkBatch.errors));
  const hash = visitorHash(config.saltSecret, receivedAt, data.site_id, sourceIp, userAgent);
  const rows: StoredEvent[] = [];
  for (const raw of data.events) {
    if (!checkEvent(raw)) throw new Error(ajv.errorsText(checkEvent.errors));
    const facts: RequestFacts = {
      siteId: data.site_id,
      sentAt: data.sent_at,
      skewMs: receivedAt.getTime() - Date.parse(data.sent_at),
      receivedAtMs: receivedAt.getTime(),
      receivedAtIso: receivedAt.toISOString(),
      ua: parseUa(userAgent),
      visitorHash: hash,
      country: (config.geoDbPath === undefined ? null : lookupCountry(geoTable(config.geoDbPath), sourceIp)) ?? undefined,
    };
    const e = enrichEvent(raw as ClickstreamEvent, facts, config);
    if (!e.ok) throw new Error(e.reason);
    rows.push(e.row);
  }
  return packRecords(rows);
}
