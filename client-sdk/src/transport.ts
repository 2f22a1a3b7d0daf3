/**
 * The retry rule of wire contract v1: whether an answer (`r`, with its body parsed as JSON, or
 * undefined when it was not JSON) sends its batch back to be retried. A 2xx is a delivery only when
 * its body has a numeric `accepted` count: serverless offline answers a crashed or missing handler
 * with 200 `{"errorMessage": ...}`, and a captive portal or a misrouted proxy can answer 200 with a
 * page of HTML; counting those as delivered lost the batch. 429 and 5xx are retried (as are network
 * errors and timeouts, which have no answer); any other status is final and the batch is dropped.
 */
export const failed = (r: { ok: boolean; status: number }, body?: unknown): boolean =>
  r.ok ? typeof Object(body).accepted != 'number' : r.status == 429 || r.status > 499;
