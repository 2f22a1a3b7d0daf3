import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadline, failed, SEND_TIMEOUT_MS } from '../../client-sdk/src/transport';

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
    [
      'a crashed handler under serverless offline',
      { errorMessage: "Cannot find module '/app/.esbuild/.build/handlers/ingest.js'", errorType: 'Error' },
    ],
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

describe('SDK send deadline', () => {
  afterEach(() => jest.useRealTimers());

  it('waits longer than the ingest Lambda may take, and less than API Gateway would', () => {
    // Prepare: the function timeout as deployed (provider.timeout, seconds)
    const yml = readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8');
    const lambdaSeconds = Number(/^provider:[\s\S]*?^ {2}timeout: (\d+)/m.exec(yml)![1]);
    // Assess: our answer (even a 503 at the Lambda's end) comes before the SDK gives up, and a
    // hung connection is abandoned before API Gateway's 30 s HTTP API integration limit.
    expect(lambdaSeconds).toBeGreaterThan(0);
    expect(SEND_TIMEOUT_MS).toBeGreaterThan(lambdaSeconds * 1000);
    expect(SEND_TIMEOUT_MS).toBeLessThan(30_000);
  });

  it('aborts after the given time (an AbortController and a timer), not before', () => {
    jest.useFakeTimers();
    try {
      // Act
      const signal = deadline();
      // Assess
      jest.advanceTimersByTime(SEND_TIMEOUT_MS - 1);
      expect(signal.aborted).toBe(false);
      jest.advanceTimersByTime(1);
      expect(signal.aborted).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('works where AbortSignal.timeout is missing (Safari 15, Firefox 99)', () => {
    const own = Object.getOwnPropertyDescriptor(AbortSignal, 'timeout')!;
    Object.defineProperty(AbortSignal, 'timeout', { value: undefined, configurable: true });
    jest.useFakeTimers();
    try {
      const signal = deadline(30);
      jest.advanceTimersByTime(30);
      expect(signal.aborted).toBe(true);
    } finally {
      Object.defineProperty(AbortSignal, 'timeout', own);
      jest.useRealTimers();
    }
  });
});
