/**
 * The site allowlist read from SITES (what an origin pattern admits, and the safe default for
 * requests without an Origin header), and the Retry-After of a 503.
 */
import { configFromEnv, originPattern, retryAfterSeconds } from '../../handlers/lib/config';

const SALT = 'unit-test-salt-0123456789';

describe('origin patterns', () => {
  it.each([
    ['http://localhost:*', 'http://localhost:3000', true],
    ['http://localhost:*', 'http://LOCALHOST:8080', true],
    ['http://localhost:*', 'http://localhost:3000.evil.example', false],
    ['http://localhost:*', 'http://localhost:', false],
    ['http://localhost:*', 'http://localhost:3000/path', false],
    ['https://*.shop.example', 'https://www.shop.example', true],
    ['https://*.shop.example', 'https://evil.example/.shop.example', false],
    ['https://*.shop.example', 'https://evil.example?.shop.example', false],
    ['https://*.shop.example', 'https://shop.example', false],
    ['https://www.shop.example', 'https://wwwxshop.example', false],
    ['https://www.shop.example', 'https://www.shop.example.evil.example', false],
  ])('%s admits %s: %s', (pattern, origin, admitted) => {
    expect(originPattern(pattern).test(origin)).toBe(admitted);
  });
});

describe('SITES', () => {
  it('a site that does not say allowNoOrigin requires an Origin header (secure default)', () => {
    const config = configFromEnv({ VISITOR_SALT_SECRET: SALT, SITES: JSON.stringify({ shop: { origins: ['https://www.shop.example'] } }) });
    expect(config.sites.get('shop')?.allowNoOrigin).toBe(false);
  });

  it('allowNoOrigin: true is honoured, and the local default lets curl reach the demo site', () => {
    const explicit = configFromEnv({ VISITOR_SALT_SECRET: SALT, SITES: JSON.stringify({ tool: { origins: [], allowNoOrigin: true } }) });
    expect(explicit.sites.get('tool')?.allowNoOrigin).toBe(true);
    expect(configFromEnv({ VISITOR_SALT_SECRET: SALT }).sites.get('demo')?.allowNoOrigin).toBe(true);
  });
});

describe('RETRY_AFTER_SECONDS', () => {
  it('defaults to 1 and takes whole seconds from 1 to 3600', () => {
    expect(retryAfterSeconds({})).toBe(1);
    expect(retryAfterSeconds({ RETRY_AFTER_SECONDS: '' })).toBe(1);
    expect(retryAfterSeconds({ RETRY_AFTER_SECONDS: '30' })).toBe(30);
    expect(retryAfterSeconds({ RETRY_AFTER_SECONDS: '3600' })).toBe(3600);
  });

  it.each(['0', '-5', '1.5', '3601', 'soon'])('refuses %s at cold start, naming the variable', (raw) => {
    expect(() => retryAfterSeconds({ RETRY_AFTER_SECONDS: raw })).toThrow(
      /RETRY_AFTER_SECONDS must be a whole number of seconds from 1 to 3600/,
    );
  });
});
