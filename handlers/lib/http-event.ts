/**
 * The HTTP API's Lambda event as it really arrives, and what the pipeline reads from it. Kept out of
 * the entry point so that handlers/ingest.ts reads as its data flow.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RequestInput } from './pipeline';

/**
 * What API Gateway really sends, whatever @types/aws-lambda says: `body` is null for an empty POST
 * (HTTP and REST APIs, and serverless offline), and headers may be missing.
 */
export type HttpApiEvent = Omit<APIGatewayProxyEventV2, 'body' | 'headers'> & {
  body?: string | null;
  headers?: APIGatewayProxyEventV2['headers'];
};

/** The pipeline's input from an HTTP API event. */
export function requestOf(event: HttpApiEvent, receivedAt: Date): RequestInput {
  const h = event.headers ?? {};
  return {
    body: event.body ?? undefined,
    isBase64Encoded: event.isBase64Encoded,
    contentType: h['content-type'],
    userAgent: h['user-agent'],
    sourceIp: event.requestContext?.http?.sourceIp,
    headers: h,
    origin: h.origin,
    requestId: event.requestContext?.requestId,
    receivedAt,
  };
}
