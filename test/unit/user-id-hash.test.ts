/**
 * USER_ID_HASH=true (opt-in): the stored user_id is HMAC(secret, user_id), never the id the site
 * sent; stable across days so per-user queries still join; off by default.
 */
import { configFromEnv, processRequest, type StoredEvent } from '../../handlers/lib/pipeline';
import { userIdHash } from '../../handlers/lib/enrich';

const SECRET = 'user-id-hash-test-secret-0001';
const event = (userId: string, i: number) => ({
  event_id: `0190b8f0-1c2d-4abc-8def-${i.toString(16).padStart(12, '0')}`, type: 'identify', ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon', session_id: 'sess', user_id: userId,
});
function store(env: Record<string, string>, userId: string, day: string): StoredEvent {
  const receivedAt = new Date(`${day}T10:00:01.000Z`);
  const body = JSON.stringify({ site_id: 'demo', sent_at: receivedAt.toISOString(), events: [{ ...event(userId, 1), ts: receivedAt.toISOString() }] });
  const r = processRequest({ body, contentType: 'text/plain', userAgent: 'Mozilla/5.0 Firefox/133.0', receivedAt }, configFromEnv({ VISITOR_SALT_SECRET: SECRET, ...env }));
  expect(r.events).toHaveLength(1);
  return r.events[0]!;
}

describe('USER_ID_HASH', () => {
  test('off by default: user_id is stored as sent', () => {
    expect(configFromEnv({ VISITOR_SALT_SECRET: SECRET }).hashUserId).toBe(false);
    expect(store({}, 'alice@example.com', '2026-11-22').user_id).toBe('alice@example.com');
  });

  test('on: the stored user_id is the keyed hash, not the raw id, and the same on another day', () => {
    const day1 = store({ USER_ID_HASH: 'true' }, 'alice@example.com', '2026-11-22');
    const day2 = store({ USER_ID_HASH: 'true' }, 'alice@example.com', '2026-11-23');

    expect(day1.user_id).toBe(userIdHash(SECRET, 'alice@example.com'));
    expect(day1.user_id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(day1)).not.toContain('alice');
    expect(day2.user_id).toBe(day1.user_id);
  });

  test('keyed: another secret or another id gives another hash', () => {
    expect(userIdHash(SECRET, 'alice')).not.toBe(userIdHash('another-secret-of-16+chars', 'alice'));
    expect(userIdHash(SECRET, 'alice')).not.toBe(userIdHash(SECRET, 'bob'));
  });

  test('only the exact value true turns it on', () => {
    expect(configFromEnv({ VISITOR_SALT_SECRET: SECRET, USER_ID_HASH: '1' }).hashUserId).toBe(false);
    expect(configFromEnv({ VISITOR_SALT_SECRET: SECRET, USER_ID_HASH: 'true' }).hashUserId).toBe(true);
  });
});
