import { campaignOf, nextSession, SESSION_TIMEOUT } from '../../client-sdk/src/session';
import { uuid } from '../../client-sdk/src/uuid';
import { UUID_PATTERN } from '../../schema/event';

const T0 = Date.parse('2026-11-22T10:00:00Z');

describe('SDK session', () => {
  const G = globalThis as Record<string, unknown>;
  // The full build (client-sdk/build.mjs flags); the core build starts no session for a campaign.
  beforeEach(() => (G.__CS_CAMPAIGN__ = true));
  afterAll(() => delete G.__CS_CAMPAIGN__);
  let n = 0;
  const newId = () => `sess-${++n}`;

  it('starts a session when there is none', () => {
    const s = nextSession(undefined, T0, '', newId);
    expect(s).toEqual({ i: expect.stringMatching(/^sess-/), t: T0, c: '' });
  });

  it('keeps the session while activity continues, and moves its clock', () => {
    const a = nextSession(undefined, T0, '', newId);
    const b = nextSession(a, T0 + SESSION_TIMEOUT - 1, '', newId);
    const c = nextSession(b, T0 + 2 * SESSION_TIMEOUT - 2, '', newId);
    expect(b.i).toBe(a.i);
    expect(c.i).toBe(a.i);
    expect(c.t).toBe(T0 + 2 * SESSION_TIMEOUT - 2);
  });

  it('starts a new session after 30 minutes of inactivity', () => {
    const a = nextSession(undefined, T0, '', newId);
    const b = nextSession(a, T0 + SESSION_TIMEOUT + 1, '', newId);
    expect(b.i).not.toBe(a.i);
  });

  it('starts a new session when the campaign changes, not when a page has no campaign', () => {
    const a = nextSession(undefined, T0, 'google|cpc|spring', newId);
    const same = nextSession(a, T0 + 1000, 'google|cpc|spring', newId);
    const none = nextSession(same, T0 + 2000, '', newId);
    const other = nextSession(none, T0 + 3000, 'newsletter|email|autumn', newId);
    expect(same.i).toBe(a.i);
    expect(none.i).toBe(a.i);
    expect(none.c).toBe('google|cpc|spring');
    expect(other.i).not.toBe(a.i);
    expect(other.c).toBe('newsletter|email|autumn');
  });

  it('in the core build (no campaign split), keeps the session and stores no campaign', () => {
    G.__CS_CAMPAIGN__ = false;
    const a = nextSession(undefined, T0, '', newId);
    const b = nextSession(a, T0 + 1000, 'google|cpc|spring', newId);
    expect(b.i).toBe(a.i);
    expect(a).not.toHaveProperty('c');
  });

  it('derives the campaign key from UTM parameters and click ids', () => {
    expect(campaignOf('')).toBe('');
    expect(campaignOf('?page=2&q=pizza')).toBe('');
    expect(campaignOf('?utm_source=google&utm_medium=cpc&utm_campaign=spring')).toBe('google|cpc|spring|||');
    expect(campaignOf('?gclid=abc')).toBe('|||abc||');
    expect(campaignOf('?utm_campaign=a')).not.toBe(campaignOf('?utm_campaign=b'));
  });
});

describe('SDK event ids', () => {
  it('makes UUID v7 ids the schema accepts, with the time in front', () => {
    const re = new RegExp(UUID_PATTERN);
    const id = uuid(T0);
    expect(id).toMatch(re);
    expect(id[14]).toBe('7');
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(T0);
  });

  it('does not repeat within the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuid(T0)));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 100)) expect(id).toMatch(new RegExp(UUID_PATTERN));
  });

  it('sets the version 7 and the RFC 9562 variant (10xx) bits, and keeps every other nibble random', () => {
    const ids = Array.from({ length: 2000 }, () => uuid(T0));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Each random position takes many values (a constant nibble would show up as one).
    const randomAt = [15, 16, 17, 20, 21, 22, ...Array.from({ length: 12 }, (_, i) => 24 + i)];
    for (const at of randomAt) expect(new Set(ids.map((id) => id[at])).size).toBeGreaterThan(10);
    expect(new Set(ids.map((id) => id[19]))).toEqual(new Set(['8', '9', 'a', 'b']));
  });
});
