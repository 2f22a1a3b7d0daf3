/**
 * Answers a CloudFormation custom resource request: a PUT of the response object to the pre-signed
 * ResponseURL (AWS CloudFormation user guide, "Custom resource response objects"). Plain fetch, no
 * dependency. Until this lands, the stack waits (up to the resource's ServiceTimeout).
 */
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';

/** The response body may not exceed 4,096 bytes; the reason is the only part of unbounded length. */
const MAX_REASON_CHARS = 1_500;

export class ResponseError extends Error {
  override name = 'ResponseError';
}

export interface Outcome {
  status: 'SUCCESS' | 'FAILED';
  physicalResourceId: string;
  reason?: string;
}

export async function respond(event: CloudFormationCustomResourceEvent, outcome: Outcome, timeoutMs = 5_000): Promise<void> {
  const body: CloudFormationCustomResourceResponse = {
    Status: outcome.status,
    Reason: (outcome.reason ?? outcome.status).slice(0, MAX_REASON_CHARS),
    PhysicalResourceId: outcome.physicalResourceId,
    // Copied verbatim from the request, as the response object requires.
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  const res = await fetch(event.ResponseURL, {
    method: 'PUT',
    // Bytes, and an empty content-type: the URL is pre-signed without one, and fetch would add
    // text/plain to a string body.
    body: Buffer.from(JSON.stringify(body)),
    headers: { 'content-type': '' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new ResponseError(`ResponseURL answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
