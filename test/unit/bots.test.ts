/**
 * handlers/lib/bots.ts, layer by layer, and through processRequest: each layer sets its own
 * bot_reason, the first matching layer wins, is_bot is exactly `bot_reason is not null`, and the
 * client address used by the datacenter layer never reaches a stored row.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import UserAgent from 'user-agents';
import {
  batchBehaviour,
  BEHAVIOUR_LIMITS,
  BOT_REASONS,
  isDatacenterIp,
  isReferrerSpam,
  userAgentBotReason,
  utcMs,
} from '../../handlers/lib/bots';
import { configFromEnv } from '../../handlers/lib/config';
import { REFERRER_SPAM } from '../../handlers/lib/generated/bot-data';
import { processRequest, type RequestInput } from '../../handlers/lib/pipeline';
import { spamHosts } from '../../scripts/bot-data';
import { NAMED_BOTS } from '../../bench/bots';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const HUMAN_IP = '79.192.0.1'; // Deutsche Telekom (AS3320), a residential network

describe('User-Agent layers', () => {
  it.each([
    ['HeadlessChrome', 'headless'],
    ['HeadlessChrome (Windows)', 'headless'],
    ['PhantomJS', 'headless'],
    ['PetalBot', 'ua_list'],
    ['Lighthouse', 'ua_list'],
    ['AhrefsBot', 'ua_list'],
    ['Googlebot', 'ua_list'],
    ['curl', 'ua_list'],
    ['empty User-Agent', 'ua_list'],
  ])('%s -> %s', (name, reason) => {
    expect(userAgentBotReason(NAMED_BOTS[name]!)).toBe(reason);
  });

  it('lets real browsers through, including a CUBOT phone (a brand, not a crawler)', () => {
    const browsers = UserAgent.top(50).map((u) => u.userAgent);
    expect(browsers.filter((ua) => userAgentBotReason(ua) !== undefined)).toEqual([]);
    expect(
      userAgentBotReason(
        'Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
      ),
    ).toBeUndefined();
  });

  it('keeps in-app browsers of Instagram and Facebook as people (the previous crawler list called them bots)', () => {
    expect(
      userAgentBotReason(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 606197581)',
      ),
    ).toBeUndefined();
    expect(
      userAgentBotReason(
        'Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook',
      ),
    ).toBeUndefined();
  });
});

describe('datacenter_ip', () => {
  // Expected owners checked against @ip-location-db/asn, the snapshot's source.
  it.each([
    ['3.5.140.2', 'Amazon AS16509'],
    ['54.239.28.85', 'Amazon AS16509'],
    ['34.102.136.180', 'Google Cloud AS396982'],
    ['20.236.44.162', 'Microsoft AS8075'],
    ['159.89.0.1', 'DigitalOcean AS14061'],
    ['5.9.0.1', 'Hetzner AS24940'],
    ['51.38.0.1', 'OVH AS16276'],
    ['2600:1f18::1', 'Amazon AS14618'],
    ['2600:1900::1', 'Google Cloud AS396982'],
    ['2603:1030::1', 'Microsoft AS8075'],
    ['2a01:4f8::1', 'Hetzner AS24940'],
    ['::ffff:3.5.140.2', 'Amazon, IPv4-mapped'],
    ['2A01:04F8:0:0::1', 'Hetzner, upper case and zero groups'],
  ])('%s is a datacenter (%s)', (ip) => {
    expect(isDatacenterIp(ip)).toBe(true);
  });

  it.each([
    ['79.192.0.1', 'Deutsche Telekom'],
    ['73.0.0.1', 'Comcast'],
    ['2003:e1::1', 'Deutsche Telekom'],
    ['2601::1', 'Comcast'],
    ['1.1.1.1', 'Cloudflare: WARP carries people'],
    ['23.0.0.1', 'Akamai: iCloud Private Relay carries people'],
    ['127.0.0.1', 'loopback'],
    ['10.0.0.9', 'private'],
    ['', 'none'],
    ['not-an-ip', 'garbage'],
    ['256.1.1.1', 'octet out of range'],
    ['1.2.3', 'three octets'],
    ['1.2.3.4.5', 'five octets'],
    ['1:2:3', 'short IPv6'],
    ['::ffff:zz', 'bad mapped'],
  ])('%s is not (%s)', (ip) => {
    expect(isDatacenterIp(ip)).toBe(false);
  });

  it('never throws, whatever the address string', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (ip) => typeof isDatacenterIp(ip) === 'boolean'));
  });
});

describe('referrer_spam', () => {
  it('matches a listed host and its subdomains, in any case, and nothing that merely ends alike', () => {
    expect(['semalt.com', 'www.semalt.com', 'a.b.SEMALT.com', 'darodar.com'].map(isReferrerSpam)).toEqual([true, true, true, true]);
    expect(['notsemalt.com', 'semalt.com.example', 'com', 'google.com', '', undefined].map(isReferrerSpam)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('the committed snapshot holds exactly the hosts of handlers/lib/bot-data/referrer-spammers.txt (npm run bots:data)', () => {
    const hosts = spamHosts(readFileSync(join(__dirname, '../../handlers/lib/bot-data/referrer-spammers.txt'), 'utf8'));
    expect(inflateRawSync(Buffer.from(REFERRER_SPAM, 'base64')).toString('utf8').split('\n')).toEqual(hosts);
  });
});

describe('behaviour (one batch)', () => {
  const at = (i: number, stepMs: number) => new Date(Date.UTC(2026, 10, 22, 10) + i * stepMs).toISOString();
  const views = (n: number, stepMs: number) => Array.from({ length: n }, (_, i) => ({ type: 'page_view', ts: at(i, stepMs) }));
  const { count, withinMs } = BEHAVIOUR_LIMITS.page_view;

  it(`flags ${count} page views inside ${withinMs / 1000} s of client time, not ${count - 1}, nor ${count} spread wider`, () => {
    const step = Math.floor((withinMs - 1) / (count - 1));
    expect(batchBehaviour(views(count, step))).toBe(true);
    expect(batchBehaviour(views(count - 1, step))).toBe(false);
    expect(batchBehaviour(views(count, Math.ceil(withinMs / (count - 1))))).toBe(false);
  });

  it('judges clicks by their own limit, in any order, and ignores what is not an event', () => {
    const clicks = Array.from({ length: BEHAVIOUR_LIMITS.click.count }, (_, i) => ({
      type: 'click',
      ts: at(BEHAVIOUR_LIMITS.click.count - i, 100),
    }));
    expect(batchBehaviour(clicks)).toBe(true);
    expect(batchBehaviour([...clicks.slice(1), null, 3, 'x', { type: 'click' }, { type: 'click', ts: 'nope' }])).toBe(false);
  });

  it("reads times as Date.parse does: the SDK's toISOString() form by position, any other form through Date.parse", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (d) => utcMs(d.toISOString()) === d.getTime(),
      ),
    );
    for (const ts of [
      '2026-11-22T10:00:00+01:00',
      '2026-11-22T24:00:00.000Z',
      '2026-11-22T10:60:00.000Z',
      '2026-11-22T1a:00:00.000Z',
      '2026-02-30T10:00:00.000Z',
      'x'.repeat(24),
      '',
    ]) {
      expect(Object.is(utcMs(ts), Date.parse(ts))).toBe(true);
    }
  });

  it('lets an SDK queue replayed after an outage through: many events, each at its own time', () => {
    expect(batchBehaviour(views(200, 60_000))).toBe(false);
  });
});

describe('through processRequest', () => {
  const config = configFromEnv({
    VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
    SITES: JSON.stringify({ shop: { origins: ['https://www.shop.example'], allowNoOrigin: true } }),
  });
  let seq = 0;
  const ev = (over: Record<string, unknown> = {}) => ({
    event_id: `9f1c2b3a-4d5e-4f60-9a7b-${(++seq).toString(16).padStart(12, '0')}`,
    type: 'page_view',
    url: 'https://www.shop.example/',
    ts: '2026-11-22T10:00:00.000Z',
    anonymous_id: 'a',
    session_id: 's',
    ...over,
  });
  const run = (events: unknown[], over: Partial<RequestInput> = {}) =>
    processRequest(
      {
        body: JSON.stringify({ site_id: 'shop', sent_at: '2026-11-22T10:00:05.000Z', events }),
        contentType: 'text/plain',
        userAgent: CHROME,
        sourceIp: HUMAN_IP,
        origin: 'https://www.shop.example',
        receivedAt: new Date('2026-11-22T10:00:06.000Z'),
        ...over,
      },
      config,
    );
  const reasons = (r: ReturnType<typeof run>) => r.events.map((e) => e.bot_reason ?? null);

  it("stores no reason for a person, and each layer's reason for its bots", () => {
    expect(reasons(run([ev()]))).toEqual([null]);
    expect(reasons(run([ev()], { userAgent: NAMED_BOTS.HeadlessChrome }))).toEqual(['headless']);
    expect(reasons(run([ev()], { userAgent: NAMED_BOTS.AhrefsBot }))).toEqual(['ua_list']);
    expect(reasons(run([ev({ webdriver: true }), ev()]))).toEqual(['webdriver', null]);
    expect(reasons(run([ev()], { sourceIp: '3.5.140.2' }))).toEqual(['datacenter_ip']);
    expect(reasons(run([ev({ referrer: 'https://www.semalt.com/x' }), ev({ referrer: 'https://news.example/' })]))).toEqual([
      'referrer_spam',
      null,
    ]);
    const burst = Array.from({ length: BEHAVIOUR_LIMITS.page_view.count }, (_, i) =>
      ev({ ts: new Date(Date.UTC(2026, 10, 22, 10) + i * 1_000).toISOString() }),
    );
    expect(new Set(reasons(run(burst)))).toEqual(new Set(['behaviour']));
  });

  it('records the first layer that matches, in BOT_REASONS order', () => {
    expect(BOT_REASONS).toEqual(['headless', 'ua_list', 'webdriver', 'datacenter_ip', 'referrer_spam', 'behaviour']);
    const spam = { referrer: 'https://semalt.com/' };
    expect(reasons(run([ev({ webdriver: true, ...spam })], { userAgent: NAMED_BOTS.HeadlessChrome, sourceIp: '3.5.140.2' }))).toEqual([
      'headless',
    ]);
    expect(reasons(run([ev({ webdriver: true, ...spam })], { sourceIp: '3.5.140.2' }))).toEqual(['webdriver']);
    expect(reasons(run([ev(spam)], { sourceIp: '3.5.140.2' }))).toEqual(['datacenter_ip']);
  });

  it('is_bot is exactly bot_reason is not null, and device_type says bot with it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(CHROME, NAMED_BOTS.HeadlessChrome!, NAMED_BOTS.curl!, ''),
        fc.constantFrom(HUMAN_IP, '3.5.140.2', '2600:1f18::1'),
        fc.boolean(),
        fc.constantFrom(undefined, 'https://semalt.com/', 'https://news.example/'),
        (userAgent, sourceIp, webdriver, referrer) => {
          const r = run([ev({ webdriver, referrer })], { userAgent, sourceIp });
          return r.events.every((e) => e.is_bot === (e.bot_reason !== undefined) && (e.device_type === 'bot') === e.is_bot);
        },
      ),
    );
  });

  it("behind CloudFront judges the viewer's address, not the edge's (an AWS address)", () => {
    // CloudFront-Viewer-Address is "IP:port" ("Add CloudFront request headers", CloudFront
    // Developer Guide); requestContext.http.sourceIp is then the edge server, inside AWS's ranges.
    const edge = '54.239.28.85';
    const behind = configFromEnv({
      VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
      TRUST_CLOUDFRONT_HEADERS: 'true',
      SITES: JSON.stringify({ shop: { origins: ['https://www.shop.example'], allowNoOrigin: true } }),
    });
    const via = (viewer: string) =>
      processRequest(
        {
          body: JSON.stringify({ site_id: 'shop', sent_at: '2026-11-22T10:00:05.000Z', events: [ev()] }),
          contentType: 'text/plain',
          userAgent: CHROME,
          sourceIp: edge,
          headers: { 'cloudfront-viewer-address': viewer },
          receivedAt: new Date('2026-11-22T10:00:06.000Z'),
        },
        behind,
      ).events.map((e) => e.bot_reason ?? null);
    expect(via(`${HUMAN_IP}:51234`)).toEqual([null]);
    expect(via('2600:1f18:4000::1:443')).toEqual(['datacenter_ip']);
    // Not trusted (the default): the headers are anyone's to send, so the connection's address counts.
    expect(reasons(run([ev()], { sourceIp: edge, headers: { 'cloudfront-viewer-address': `${HUMAN_IP}:51234` } }))).toEqual([
      'datacenter_ip',
    ]);
  });

  it('never stores the address the datacenter layer looked at', () => {
    const ip = '54.239.28.85';
    const r = run([ev(), { not: 'an event' }], { sourceIp: ip });
    expect(r.events[0]!.bot_reason).toBe('datacenter_ip');
    expect(JSON.stringify([r.lines, r.rejects, r.response])).not.toContain(ip);
  });
});
