/**
 * handlers/lib/generated/validators.js has its Ajv length checks guarded by a cheap bound
 * (scripts/generate.ts guardLengthChecks): it must decide exactly as Ajv's own, unguarded
 * validator does, for strings of any mix of ASCII, BMP, astral characters and lone surrogates.
 */
import Ajv from 'ajv';
import fc from 'fast-check';
import { validateEvent } from '../../handlers/lib/generated/validators';
import { eventSchema, LIMITS } from '../../schema/event';

// The options scripts/generate.ts compiles with, minus the standalone source output.
const reference = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(eventSchema as object);

const base = {
  event_id: '9f1c2b3a-4d5e-4f60-9a7b-000000000001',
  type: 'custom',
  ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  name: 'add_to_cart',
  url: 'https://shop.example/',
};
const summary = (errors: typeof reference.errors) =>
  (errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);

describe('generated validator with guarded length checks', () => {
  it('property: accepts, rejects and explains exactly as an unguarded Ajv validator', () => {
    // Lengths around every limit in the schema, in code points that are 1 or 2 UTF-16 units.
    const unit = fc.constantFrom('a', 'ü', '😀', '\ud800', '\udc00', '');
    const text = fc.oneof(fc.integer({ min: 0, max: 260 }), fc.integer({ min: 0, max: LIMITS.maxUrlLength + 4 })).chain((n) =>
      fc.array(unit, { minLength: Math.min(n, 8), maxLength: 8 }).map((u) => {
        const s = u.join('');
        return s.length === 0 ? '' : s.repeat(Math.ceil(n / s.length)).slice(0, n);
      }),
    );
    const field = fc.constantFrom(
      'name',
      'title',
      'element',
      'anonymous_id',
      'session_id',
      'referrer',
      'language',
      'timezone',
      'sdk',
      'user_id',
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(field, text), { minLength: 1, maxLength: 3 }), fc.boolean(), (fields, asUrl) => {
        const ev: Record<string, unknown> = { ...base, ...Object.fromEntries(fields) };
        if (asUrl) ev.url = `https://shop.example/${fields[0]![1]}`;
        const ok = validateEvent(ev);
        const expected = reference(ev);
        expect(ok).toBe(expected);
        expect(summary(validateEvent.errors)).toEqual(summary(reference.errors));
      }),
      { numRuns: 300 },
    );
  });

  it('still counts code points, not UTF-16 units, at a limit', () => {
    // Prepare: 100 astral characters are 200 UTF-16 units but 100 code points (name allows 100)
    const atLimit = { ...base, name: '😀'.repeat(100) };
    const overLimit = { ...base, name: '😀'.repeat(101) };
    // Act + Assess
    expect(validateEvent(atLimit)).toBe(true);
    expect(validateEvent(overLimit)).toBe(false);
  });
});
