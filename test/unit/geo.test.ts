/**
 * IP -> country (handlers/lib/geo.ts) against the database's own published data: the expected
 * countries are read from the text CSVs of @ip-location-db/dbip-country (dotted and colon
 * notation), while the table is built from the package's numeric CSVs (scripts/geo-db.ts), and
 * whether an address lies in a range is decided by Node's net.BlockList, not by our parser.
 */
import { readFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_GEO_DB, configFromEnv } from '../../handlers/lib/config';
import {
  countryLookup,
  forwardedForFromLoopback,
  geoTable,
  lookupCountry,
  parseIPv4,
  parseIPv6,
  resolveClient,
  type GeoTable,
} from '../../handlers/lib/geo';
import { processRequest } from '../../handlers/lib/pipeline';
import { buildGeoTable, GEO_DB_FILE, pkgDir } from '../../scripts/geo-db';

const root = join(__dirname, '..', '..');
const csv = (name: string) => readFileSync(join(pkgDir(), name), 'utf8').split('\n').filter(Boolean);

describe('geo table', () => {
  let table: GeoTable;
  let v4Lines: string[];
  let v6Lines: string[];

  beforeAll(() => {
    table = geoTable(join(root, DEFAULT_GEO_DB));
    v4Lines = csv('dbip-country-ipv4.csv');
    v6Lines = csv('dbip-country-ipv6.csv');
  });

  // Each fixture names the published line that covers it; the test checks that the line is in the
  // data, that the address is inside it (BlockList), and that the lookup answers its country.
  it.each([
    ['1.0.0.1', '1.0.0.0,1.0.0.255,AU', 'ipv4'],
    ['8.8.8.8', v4LineFor('8.8.8.8'), 'ipv4'],
    ['81.2.69.142', v4LineFor('81.2.69.142'), 'ipv4'],
    ['2001:200::1', '2001:200::,2001:200:134:ffff:ffff:ffff:ffff:ffff,JP', 'ipv6'],
    ['2a00:1450:4001:82b::200e', v6LineFor('2a00:1450:4001:82b::200e'), 'ipv6'],
    ['2001:550:2:2::5d:ffff', '2001:550::1000:0:0:9a36:a554,2001:550:2:2::5d:ffff,US', 'ipv6'],
    ['2001:550:2:2:0:0:5e:0', '2001:550:2:2:0:0:5e::,2001:550:2:15e::5,CA', 'ipv6'],
  ] as const)('%s resolves to the country of the published line %s', (ip, line, family) => {
    // Prepare
    const lines = family === 'ipv4' ? v4Lines : v6Lines;
    const [start, end, country] = line.split(',');
    const range = new BlockList();
    range.addRange(start!, end!, family);
    // Assess: the fixture is the database's, and the address lies in it
    expect(lines).toContain(line);
    expect(range.check(ip, family)).toBe(true);
    // Act + Assess
    expect(lookupCountry(table, ip)).toBe(country);
  });

  it('answers every published range at both ends, IPv4 and IPv6 (every line of both text CSVs)', () => {
    const wrong: string[] = [];
    for (const line of [...v4Lines, ...v6Lines]) {
      const [start, end, country] = line.split(',');
      if (lookupCountry(table, start!) !== country || lookupCountry(table, end!) !== country) wrong.push(line);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(v4Lines.length).toBeGreaterThan(300_000);
    expect(v6Lines.length).toBeGreaterThan(300_000);
  });

  it('looks IPv4-mapped IPv6 up as IPv4', () => {
    expect(lookupCountry(table, '::ffff:1.0.0.1')).toBe('AU');
    expect(lookupCountry(table, '::FFFF:8.8.8.8')).toBe(lookupCountry(table, '8.8.8.8'));
  });

  it('gives null for addresses outside the data and for what is not an address', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '::1', '::', 'fe80::1%eth0', '', 'junk', '1.2.3', '256.1.1.1', '1:2:3']) {
      expect([ip, lookupCountry(table, ip)]).toEqual([ip, null]);
    }
  });

  it('is the table the installed package builds (npm run geo:update after updating it)', () => {
    expect(buildGeoTable().equals(readFileSync(GEO_DB_FILE))).toBe(true);
  });

  function v4LineFor(ip: string): string {
    return lineFor(csv('dbip-country-ipv4.csv'), ip, 'ipv4');
  }
  function v6LineFor(ip: string): string {
    return lineFor(csv('dbip-country-ipv6.csv'), ip, 'ipv6');
  }
});

/** The published line whose range holds `ip`, found with BlockList (a linear scan; fixtures only). */
function lineFor(lines: string[], ip: string, family: 'ipv4' | 'ipv6'): string {
  for (const line of lines) {
    const [start, end] = line.split(',');
    const b = new BlockList();
    b.addRange(start!, end!, family);
    if (b.check(ip, family)) return line;
  }
  throw new Error(`${ip} is in no published range`);
}

describe('address parsing', () => {
  const words = (s: string) => {
    const out = new Uint32Array(4);
    return parseIPv6(s, out) ? [...out].map((w) => w.toString(16)) : null;
  };

  it('reads IPv4 strictly', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(2 ** 32 - 1);
    expect(parseIPv4('1.2.3.4')).toBe(0x01020304);
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..3.4', '1.2.3.4 ', 'a.b.c.d', ''])
      expect([bad, parseIPv4(bad)]).toEqual([bad, -1]);
  });

  it('reads IPv6 with compression, an IPv4 tail and a zone', () => {
    expect(words('::')).toEqual(['0', '0', '0', '0']);
    expect(words('::1')).toEqual(['0', '0', '0', '1']);
    expect(words('1::')).toEqual(['10000', '0', '0', '0']);
    expect(words('2001:db8::8a2e:370:7334')).toEqual(['20010db8', '0', '8a2e', '3707334']);
    expect(words('2001:DB8:0:0:1:0:0:1')).toEqual(['20010db8', '0', '10000', '1']);
    expect(words('::ffff:192.0.2.1')).toEqual(['0', '0', 'ffff', 'c0000201']);
    expect(words('fe80::1%eth0')).toEqual(['fe800000', '0', '0', '1']);
    expect(words('1:2:3:4:5:6:7::')).toEqual(['10002', '30004', '50006', '70000']);
  });

  it('rejects what is not IPv6', () => {
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '12345::',
      ':1',
      '1:',
      'g::1',
      '::ffff:1.2.3',
      '1:2:3:4:5:6:7',
      ':::',
      '1:2:3:4:5:6:7:1.2.3.4',
    ]) {
      expect([bad, words(bad)]).toEqual([bad, null]);
    }
  });
});

describe('resolveClient: which source wins', () => {
  const lookup = (ip: string) => (ip === '198.51.100.7' ? 'NL' : ip === '2001:db8::7' ? 'SE' : ip === '203.0.113.9' ? 'FR' : null);
  const viewer = {
    'cloudfront-viewer-country': 'US',
    'cloudfront-viewer-country-region': 'CA',
    'cloudfront-viewer-address': '198.51.100.7:46532',
  };

  it('takes country and region from CloudFront when the stage trusts it, and the client IP from the viewer address', () => {
    expect(resolveClient('130.176.1.1', viewer, { trust: true }, lookup)).toEqual({ ip: '198.51.100.7', country: 'US', region: 'US-CA' });
  });

  it('reads an unbracketed IPv6 viewer address (the port is after the last colon)', () => {
    const h = { 'cloudfront-viewer-address': '2001:db8::7:443' };
    expect(resolveClient('130.176.1.1', h, { trust: true }, lookup)).toEqual({ ip: '2001:db8::7', country: 'SE', region: null });
  });

  it("keeps API Gateway's address when the viewer address is not an address", () => {
    expect(resolveClient('203.0.113.9', { 'cloudfront-viewer-address': 'evil:80' }, { trust: true }, lookup)).toEqual({
      ip: '203.0.113.9',
      country: 'FR',
      region: null,
    });
    expect(resolveClient('203.0.113.9', { 'cloudfront-viewer-address': '[2001:db8::7]:443' }, { trust: true }, lookup).ip).toBe(
      '2001:db8::7',
    );
  });

  it('falls back to the table when CloudFront sent no (or no valid) country', () => {
    expect(resolveClient('130.176.1.1', { 'cloudfront-viewer-address': '198.51.100.7:1' }, { trust: true }, lookup)).toEqual({
      ip: '198.51.100.7',
      country: 'NL',
      region: null,
    });
    expect(resolveClient('203.0.113.9', { 'cloudfront-viewer-country': 'Narnia' }, { trust: true }, lookup)).toEqual({
      ip: '203.0.113.9',
      country: 'FR',
      region: null,
    });
    expect(
      resolveClient('130.176.1.1', { ...viewer, 'cloudfront-viewer-country-region': 'not a code' }, { trust: true }, lookup).region,
    ).toBeNull();
  });

  it('ignores the headers when the stage does not trust them: a direct caller cannot pick its country or address', () => {
    expect(resolveClient('203.0.113.9', viewer, { trust: false }, lookup)).toEqual({ ip: '203.0.113.9', country: 'FR', region: null });
  });

  it('with an origin secret, believes only requests that carry it', () => {
    const cf = { trust: true, originSecret: 's3cret-from-the-distribution' };
    expect(resolveClient('203.0.113.9', viewer, cf, lookup).country).toBe('FR');
    expect(resolveClient('203.0.113.9', { ...viewer, 'x-origin-verify': 'guess' }, cf, lookup).country).toBe('FR');
    expect(resolveClient('203.0.113.9', { ...viewer, 'x-origin-verify': cf.originSecret }, cf, lookup)).toEqual({
      ip: '198.51.100.7',
      country: 'US',
      region: 'US-CA',
    });
  });

  it('has no country without a lookup (GEO_DB_PATH=off) or an address', () => {
    expect(resolveClient('203.0.113.9', undefined, { trust: false }, undefined).country).toBeNull();
    expect(resolveClient(undefined, undefined, { trust: false }, lookup)).toEqual({ ip: '', country: null, region: null });
  });
});

describe('local X-Forwarded-For switch', () => {
  it('names the client only when the peer is loopback and the entry is an address', () => {
    expect(forwardedForFromLoopback('127.0.0.1', { 'x-forwarded-for': '81.2.69.142, 10.0.0.1' })).toBe('81.2.69.142');
    expect(forwardedForFromLoopback('::1', { 'x-forwarded-for': '2a00:1450:4001:82b::200e' })).toBe('2a00:1450:4001:82b::200e');
    expect(forwardedForFromLoopback('::ffff:127.0.0.1', { 'x-forwarded-for': '8.8.8.8' })).toBe('8.8.8.8');
    expect(forwardedForFromLoopback('203.0.113.9', { 'x-forwarded-for': '8.8.8.8' })).toBe('203.0.113.9');
    expect(forwardedForFromLoopback('127.0.0.1', { 'x-forwarded-for': 'not-an-ip' })).toBe('127.0.0.1');
    expect(forwardedForFromLoopback('127.0.0.1', {})).toBe('127.0.0.1');
  });
});

describe('geo in the pipeline', () => {
  const body = JSON.stringify({
    site_id: 'demo',
    sent_at: '2026-11-22T10:00:05.000Z',
    events: [
      {
        event_id: '0190a8b2-7c4e-7abc-8def-0123456789ab',
        type: 'page_view',
        ts: '2026-11-22T10:00:01.000Z',
        anonymous_id: 'a',
        session_id: 's',
        url: 'https://x.example/',
      },
    ],
  });
  const run = (env: Record<string, string>, input: { sourceIp: string; headers?: Record<string, string> }) =>
    processRequest(
      {
        body,
        contentType: 'text/plain',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
        receivedAt: new Date('2026-11-22T10:00:06.000Z'),
        ...input,
      },
      configFromEnv({ VISITOR_SALT_SECRET: 'geo-test-secret-0123456789', ...env }),
    );

  it('stores the country of the source address, and no address', () => {
    const r = run({}, { sourceIp: '1.0.0.1' });
    expect(r.events[0]).toMatchObject({ country: 'AU' });
    expect(r.events[0]!.region).toBeUndefined();
    expect(r.lines[0]).not.toContain('1.0.0.1');
  });

  it("stores CloudFront's country and region when trusted, and keys the visitor hash on the viewer, not the edge", () => {
    const headers = {
      'cloudfront-viewer-country': 'DE',
      'cloudfront-viewer-country-region': 'BE',
      'cloudfront-viewer-address': '81.2.69.142:5000',
    };
    const viaEdgeA = run({ TRUST_CLOUDFRONT_HEADERS: 'true' }, { sourceIp: '130.176.1.1', headers });
    const viaEdgeB = run({ TRUST_CLOUDFRONT_HEADERS: 'true' }, { sourceIp: '130.176.9.9', headers });
    expect(viaEdgeA.events[0]).toMatchObject({ country: 'DE', region: 'DE-BE' });
    expect(viaEdgeA.events[0]!.visitor_hash).toBe(viaEdgeB.events[0]!.visitor_hash);
    expect(viaEdgeA.lines[0]).not.toContain('81.2.69.142');
  });

  it("judges the viewer, not the CloudFront edge, in the bot filter's datacenter layer", () => {
    // Prepare: 130.176.1.1 is a CloudFront edge address (Amazon's network, a datacenter to the filter)
    const headers = { 'cloudfront-viewer-country': 'GB', 'cloudfront-viewer-address': '81.2.69.142:5000' };
    // Act
    const viaEdge = run({ TRUST_CLOUDFRONT_HEADERS: 'true' }, { sourceIp: '130.176.1.1', headers });
    const direct = run({ TRUST_CLOUDFRONT_HEADERS: 'true' }, { sourceIp: '130.176.1.1' });
    // Assess
    expect(viaEdge.events[0]!.bot_reason).toBeUndefined();
    expect(direct.events[0]!.bot_reason).toBe('datacenter_ip');
  });

  it('GEO_DB_PATH=off stores no country; a missing table fails at configuration, not at a request', () => {
    expect(run({ GEO_DB_PATH: 'off' }, { sourceIp: '1.0.0.1' }).events[0]!.country).toBeUndefined();
    expect(() => configFromEnv({ VISITOR_SALT_SECRET: 'geo-test-secret-0123456789', GEO_DB_PATH: '/nonexistent/geo.bin' })).toThrow(
      /GEO_DB_PATH/,
    );
  });

  it('reads the table on the first lookup only', () => {
    const lookup = countryLookup('/nonexistent/later.bin');
    expect(() => lookup('1.0.0.1')).toThrow(/cannot read the geo table/);
  });
});
