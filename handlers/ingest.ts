/**
 * POST /v1/events: parse -> validate (per event) -> enrich -> pack -> PutRecordBatch.
 * Valid events are kept even when others in the batch are rejected; rejected ones go to the rejects
 * stream with their reason. If accepted events cannot be delivered after retries, the answer is 503
 * so the SDK retries (event_id makes that safe).
 */
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { sendTo } from './clients/firehose';
import { eventCounter } from './ingest-metrics';
import { configFromEnv, requireEnv, retryAfterSeconds } from './lib/config';
import { type HttpApiEvent, requestOf } from './lib/http-event';
import { packLines, packRecords } from './lib/pack';
import { processRequest, type IngestResponse } from './lib/pipeline';
import { ANSWER_MARGIN_MS, deliverWithRetry, INGEST_RETRY } from './lib/deliver';

// Read once: a misconfigured function fails its cold start, not a request.
const config = configFromEnv(process.env);
const retryAfter = String(retryAfterSeconds(process.env));
const sendEvents = sendTo(requireEnv(process.env, 'EVENTS_STREAM_NAME'));
const sendRejects = sendTo(requireEnv(process.env, 'REJECTS_STREAM_NAME'));
const logger = new Logger();
const metrics = new Metrics();
// EventsAccepted / EventsRejected: one EMF line per environment per minute, not per invocation.
const countEvents = eventCounter(metrics);

const json = (statusCode: number, body: IngestResponse, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export type { HttpApiEvent } from './lib/http-event';

async function ingest(event: HttpApiEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const result = processRequest(requestOf(event, new Date()), config);
  // No CORS headers here: API Gateway answers CORS from serverless.yml (provider.httpApi.cors) and
  // ignores an integration's own; the local stack's stand-in does the same (local/api-gateway.ts).
  const policy = { ...INGEST_RETRY, timeLeftMs: () => context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS };

  const [delivered, rejected] = await Promise.all([
    result.lines.length ? deliverWithRetry(packLines(result.lines), sendEvents, policy) : undefined,
    result.rejects.length ? deliverWithRetry(packRecords(result.rejects), sendRejects, policy) : undefined,
  ]);
  if (rejected?.failed) logger.error('rejects could not be delivered', { ...rejected, rows: result.rejects });
  if (delivered?.failed) {
    countEvents(0, 0); // nothing is stored: the SDK sends the batch again and it is counted then
    metrics.addMetric('DeliveryFailed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics(); // at once, on this invocation: IngestDeliveryFailedAlarm reads it
    logger.error('events could not be delivered', { ...delivered });
    // Readable by a page only because serverless.yml lists retry-after in exposedResponseHeaders.
    return json(503, { error: 'events could not be stored right now; retry later' }, { 'retry-after': retryAfter });
  }
  countEvents(result.lines.length, result.rejects.length);
  if (result.status !== 200) logger.info('request rejected', { status: result.status, siteId: result.siteId, reason: result.response });
  return json(result.status, result.response);
}

export const handler = middy(ingest)
  .use(injectLambdaContext(logger))
  // Anything unexpected becomes a generic 500 that leaks nothing (only < 500 messages are exposed).
  .use(httpErrorHandler({ logger: (err: unknown) => logger.error('unhandled', err as Error) }));
