/**
 * USER_ID_HASH=true (opt-in): the stored user_id is HMAC(secret, user_id), never the id the site
 * sent; stable across days so per-user queries still join; off by default.
 */
import { createHmac } from 'node:crypto';
import { configFromEnv, processRequest, type StoredEvent } from '../../handlers/lib/pipeline';
import { userIdHash } from '../../handlers/lib/enrich';

const SECRET = 'user-id-hash-test-secret-0001';
/** The documented value (docs/security.md): HMAC-SHA256(secret, "user_id|" + id), first 32 hex. */
const documented = (secret: string, id: string) => createHmac('sha256', secret).update(`user_id|${id}`).digest('hex').slice(0, 32);
const event = (userId: string, i: number) => ({
  event_id: `0190b8f0-1c2d-4abc-8def-${i.toString(16).padStart(12, '0')}`,
  type: 'identify',
  ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon',
  session_id: 'sess',
  user_id: userId,
});
function store(env: Record<string, string>, userId: string, day: string): StoredEvent {
  const receivedAt = new Date(`${day}T10:00:01.000Z`);
  const body = JSON.stringify({
    site_id: 'demo',
    sent_at: receivedAt.toISOString(),
    events: [{ ...event(userId, 1), ts: receivedAt.toISOString() }],
  });
  const r = processRequest(
    { body, contentType: 'text/plain', userAgent: 'Mozilla/5.0 Firefox/133.0', receivedAt },
    configFromEnv({ VISITOR_SALT_SECRET: SECRET, ...env }),
  );
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

    // Fixed vector, computed outside Node: printf %s 'user_id|alice@example.com' | openssl dgst -sha256 -hmac "$SECRET" (first 32 hex).
    expect(day1.user_id).toBe('3585f1d203e95d05173c0d1a51f197fb');
    expect(day1.user_id).toBe(documented(SECRET, 'alice@example.com'));
    expect(JSON.stringify(day1)).not.toContain('alice');
    expect(day2.user_id).toBe(day1.user_id);
  });

  test('keyed: another secret or another id gives another hash, each the documented HMAC', () => {
    // Fixed vectors from openssl dgst -sha256 -hmac <secret> over 'user_id|<id>' (first 32 hex).
    expect(userIdHash(SECRET, 'alice')).toBe('0ad7364389c78f21d041a8fc51e611e4');
    expect(userIdHash(SECRET, 'bob')).toBe('f935b2fcf1343a161494d7f63630b97a');
    expect(userIdHash('another-secret-of-16+chars', 'alice')).toBe('44038db77dc5dce8bdb7738745bebf7b');
    for (const [secret, id] of [
      [SECRET, 'alice'],
      [SECRET, 'bob'],
      ['another-secret-of-16+chars', 'alice'],
    ] as const) {
      expect(userIdHash(secret, id)).toBe(documented(secret, id));
    }
  });

  test('only the exact value true turns it on', () => {
    expect(configFromEnv({ VISITOR_SALT_SECRET: SECRET, USER_ID_HASH: '1' }).hashUserId).toBe(false);
    expect(configFromEnv({ VISITOR_SALT_SECRET: SECRET, USER_ID_HASH: 'true' }).hashUserId).toBe(true);
  });
});
