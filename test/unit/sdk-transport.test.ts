import { failed } from '../../client-sdk/src/transport';

/** A fetch Response as `failed` reads it. */
const answer = (status: number) => ({ ok: status > 199 && status < 300, status });

describe('SDK retry rule (wire contract v1)', () => {
  it.each([429, 500, 502, 503, 504])('retries %i', (status) => {
    expect(failed(answer(status), { message: 'Service Unavailable' })).toBe(true);
    expect(failed(answer(status))).toBe(true);
  });

  it.each([400, 403, 404, 413, 415])('drops the batch on %i', (status) => {
    expect(failed(answer(status), { error: 'unknown site' })).toBe(false);
    expect(failed(answer(status))).toBe(false);
  });

  it.each([
    ['the contract answer', { accepted: 3, rejected: [] }],
    ['every event rejected', { accepted: 0, rejected: [{ index: 0, reason: 'bad ts' }] }],
  ])('counts a 200 with %s as delivered', (_, body) => {
    expect(failed(answer(200), body)).toBe(false);
  });

  it.each([
    // What serverless offline answers when the handler crashed or its build folder is gone (issue 11).
    ['a crashed handler under serverless offline', { errorMessage: "Cannot find module '/app/.esbuild/.build/handlers/ingest.js'", errorType: 'Error' }],
    ['a body that was not JSON (a captive portal page)', undefined],
    ['JSON null', null],
    ['an empty object', {}],
    ['a string count', { accepted: '3' }],
    ['an array', [3]],
    ['a bare number', 3],
  ])('retries a 2xx with %s', (_, body) => {
    expect(failed(answer(200), body)).toBe(true);
    expect(failed(answer(204), body)).toBe(true);
  });
});
