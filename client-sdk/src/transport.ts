/**
 * How long a send may go unanswered before the SDK gives up on it and retries: 15 s. Our collector
 * always answers well within that: the ingest Lambda times out at 10 s (serverless.yml) and answers
 * 503 a second before, and API Gateway's own wait for any HTTP API integration is at most 30 s
 * ("Quotas for configuring and running an HTTP API in API Gateway", Maximum integration timeout,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html), so no live
 * endpoint legitimately needs more than the Lambda's 10 s; the 5 s above it are for a 30 KB batch
 * on a slow mobile uplink. What takes longer is a hung connection (a dead handler under serverless
 * offline, a black-holed network), which would otherwise hold the queue for the rest of the visit.
 * A send the server did store but answered too late is sent again: a duplicate, not a loss.
 */
export const SEND_TIMEOUT_MS = 15_000;

/**
 * A signal that aborts a fetch after `ms`: an AbortController and a timer, which every browser that
 * can parse this build has (the build uses `??`, which each of them shipped later than
 * AbortController). One path for all of them; AbortSignal.timeout (Firefox 100, Safari 16, Chrome
 * 124; MDN "AbortSignal: timeout() static method") would do the same for more bytes, its timer
 * paused like a page's timers while the document is frozen. Aborting, rather than only ceasing to
 * wait, settles the fetch exactly once, so an answer that turns up after the timeout has no promise
 * left to resolve, and it returns the request's bytes to the page's 64 KiB keepalive quota.
 * (Measured in Chromium: the aborted keepalive request's connection stays open about 30 s, and a
 * late answer on it does arrive, unheard.)
 */
export function deadline(ms = SEND_TIMEOUT_MS): AbortSignal {
  const c = new AbortController();
  setTimeout(() => c.abort(), ms);
  return c.signal;
}

/**
 * The retry rule of wire contract v1: whether an answer (`r`, with its body parsed as JSON, or
 * undefined when it was not JSON) sends its batch back to be retried. A 2xx is a delivery only when
 * its body has a numeric `accepted` count: serverless offline answers a crashed or missing handler
 * with 200 `{"errorMessage": ...}`, and a captive portal or a misrouted proxy can answer 200 with a
 * page of HTML; counting those as delivered lost the batch. 429 and 5xx are retried (as are network
 * errors and timeouts, which have no answer); any other status is final and the batch is dropped.
 */
export const failed = (r: { ok: boolean; status: number }, body?: unknown): boolean =>
  r.ok ? typeof Object(body).accepted !== 'number' : r.status === 429 || r.status > 499;
