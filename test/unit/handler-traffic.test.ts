/**
 * handlers/lib/traffic.ts: traffic-source attribution (UTM, ad click ids, referrer kind) and the
 * URL privacy filters (URL_DROP_PARAMS / URL_DROP_QUERY) that run before anything is stored.
 */
import { configFromEnv } from '../../handlers/lib/config';
import { attribute, type UrlPrivacy } from '../../handlers/lib/traffic';

const keepAll: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: false };
const PAGE = 'https://www.shop.example/products/lamp';

describe('UTM parameters', () => {
  it('fills every utm_* column and makes utm_source/utm_medium the source/medium', () => {
    // Prepare
    const url = `${PAGE}?utm_source=newsletter&utm_medium=email&utm_campaign=autumn&utm_term=lamp&utm_content=hero&x=1`;
    // Act
    const a = attribute(url, 'https://www.google.com/', keepAll);
    // Assess: UTM wins over the search referrer
    expect(a).toMatchObject({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'autumn',
      utm_term: 'lamp',
      utm_content: 'hero',
      source: 'newsletter',
      medium: 'email',
      campaign: 'autumn',
      referrer_type: 'search',
      host: 'www.shop.example',
      path: '/products/lamp',
    });
  });

  it('reports medium (not set) when only utm_source is present', () => {
    expect(attribute(`${PAGE}?utm_source=partner`, undefined, keepAll)).toMatchObject({ source: 'partner', medium: '(not set)' });
  });

  it('caps a UTM value at 256 characters', () => {
    expect(attribute(`${PAGE}?utm_campaign=${'c'.repeat(300)}`, undefined, keepAll).utm_campaign).toHaveLength(256);
  });
});

describe('ad click ids', () => {
  it.each([
    ['gclid', 'google'],
    ['dclid', 'google'],
    ['wbraid', 'google'],
    ['gbraid', 'google'],
    ['msclkid', 'bing'],
    ['fbclid', 'facebook'],
    ['ttclid', 'tiktok'],
    ['li_fat_id', 'linkedin'],
    ['twclid', 'twitter'],
  ])('%s -> source %s, medium cpc', (param, network) => {
    // Act
    const a = attribute(`${PAGE}?${param}=abc123`, 'https://www.facebook.com/', keepAll);
    // Assess
    expect(a).toMatchObject({ click_id_type: param, source: network, medium: 'cpc' });
  });

  it('lets UTM win over a click id', () => {
    expect(attribute(`${PAGE}?gclid=x&utm_source=mail`, undefined, keepAll)).toMatchObject({ source: 'mail', click_id_type: 'gclid' });
  });
});

describe('referrer classification', () => {
  it.each<[string, string | undefined, string, string, string]>([
    ['no referrer', undefined, 'direct', '(direct)', '(none)'],
    ['empty referrer', '', 'direct', '(direct)', '(none)'],
    ['non-http referrer (app)', 'android-app://com.google.android.gm/', 'direct', '(direct)', '(none)'],
    ['Google search', 'https://www.google.com/', 'search', 'google.com', 'organic'],
    ['Google country domain', 'https://www.google.co.uk/', 'search', 'google.co.uk', 'organic'],
    ['Bing', 'https://www.bing.com/search?q=lamp', 'search', 'bing.com', 'organic'],
    ['DuckDuckGo', 'https://duckduckgo.com/', 'search', 'duckduckgo.com', 'organic'],
    ['Facebook', 'https://m.facebook.com/', 'social', 'm.facebook.com', 'social'],
    ['t.co', 'https://t.co/AbC', 'social', 't.co', 'social'],
    ['Reddit', 'https://www.reddit.com/r/lamps/', 'social', 'reddit.com', 'social'],
    ['Gmail', 'https://mail.google.com/mail/u/0/', 'email', 'mail.google.com', 'email'],
    ['Yahoo Mail', 'https://mail.yahoo.com/d/folders/1', 'email', 'mail.yahoo.com', 'email'],
    ['Outlook', 'https://outlook.live.com/mail/0/', 'email', 'outlook.live.com', 'email'],
    ['same host', `${PAGE.replace('/lamp', '')}?page=2`, 'internal', '(internal)', 'internal'],
    ['same host without www', 'https://shop.example/', 'internal', '(internal)', 'internal'],
    ['another site', 'https://blog.lighting.example/best-lamps', 'referral', 'blog.lighting.example', 'referral'],
    ['a subdomain is another site', 'https://help.shop.example/', 'referral', 'help.shop.example', 'referral'],
  ])('%s', (_name, referrer, type, source, medium) => {
    // Act
    const a = attribute(PAGE, referrer, keepAll);
    // Assess
    expect({ type: a.referrer_type, source: a.source, medium: a.medium }).toEqual({ type, source, medium });
  });

  it('sets referrer_host only for http(s) referrers', () => {
    expect(attribute(PAGE, 'https://www.google.com/search', keepAll).referrer_host).toBe('www.google.com');
    expect(attribute(PAGE, 'not a url', keepAll).referrer_host).toBeUndefined();
  });

  it('survives a URL that does not parse', () => {
    // The schema only checks the ^https?:// prefix, so the URL parser may still refuse it.
    const a = attribute('https://exa mple.com/', undefined, keepAll);
    expect(a).toMatchObject({ url: 'https://exa mple.com/', referrer_type: 'direct', source: '(direct)' });
    expect(a.host).toBeUndefined();
  });
});

describe('URL privacy filters', () => {
  it('URL_DROP_PARAMS removes the named parameters (any case) and keeps the rest', () => {
    // Prepare: the config helper lower-cases and trims the list, as on AWS
    const privacy = configFromEnv({ VISITOR_SALT_SECRET: 'x'.repeat(16), URL_DROP_PARAMS: ' Email , token' });
    // Act
    const a = attribute(`${PAGE}?EMAIL=a%40b.example&x=1&token=s3cret&utm_source=n#reviews`, undefined, privacy);
    // Assess
    expect(a.url).toBe(`${PAGE}?x=1&utm_source=n#reviews`);
    expect(a.url).not.toMatch(/a%40b|s3cret/);
    expect(a.utm_source).toBe('n');
  });

  it('URL_DROP_QUERY removes the whole query after reading UTM and click ids', () => {
    // Prepare
    const privacy = configFromEnv({ VISITOR_SALT_SECRET: 'x'.repeat(16), URL_DROP_QUERY: 'true' });
    // Act
    const a = attribute(`${PAGE}?utm_source=news&gclid=g1&q=secret#top`, undefined, privacy);
    // Assess
    expect(a.url).toBe(`${PAGE}#top`);
    expect(a).toMatchObject({ utm_source: 'news', click_id_type: 'gclid', source: 'news' });
  });

  it('leaves the URL exactly as sent when no filter is configured', () => {
    const raw = `${PAGE}?b=2&a=%7E`;
    expect(attribute(raw, undefined, keepAll).url).toBe(raw);
  });

  it('filters the referrer too: in an SPA it is the previous URL of the same site', () => {
    // Prepare: the previous page carried the parameters the operator asked us never to store
    const privacy = configFromEnv({ VISITOR_SALT_SECRET: 'x'.repeat(16), URL_DROP_PARAMS: 'email,token' });
    // Act
    const a = attribute(`${PAGE}?x=1`, `${PAGE}?email=a%40b.example&token=s3cret&page=2`, privacy);
    // Assess
    expect(a.referrer).toBe(`${PAGE}?page=2`);
    expect(a.referrer_type).toBe('internal');
  });

  it('URL_DROP_QUERY removes the query of the referrer as well', () => {
    const privacy = configFromEnv({ VISITOR_SALT_SECRET: 'x'.repeat(16), URL_DROP_QUERY: 'true' });
    expect(attribute(PAGE, 'https://www.google.com/search?q=my+email', privacy).referrer).toBe('https://www.google.com/search');
  });

  it('keeps a referrer without a query, or one that is not a URL, as sent', () => {
    const privacy = configFromEnv({ VISITOR_SALT_SECRET: 'x'.repeat(16), URL_DROP_PARAMS: 'email' });
    expect(attribute(PAGE, 'https://www.google.com/', privacy).referrer).toBe('https://www.google.com/');
    expect(attribute(PAGE, 'android-app://com.google.android.gm/', privacy).referrer).toBe('android-app://com.google.android.gm/');
    expect(attribute(PAGE, '', privacy).referrer).toBeUndefined();
  });
});
