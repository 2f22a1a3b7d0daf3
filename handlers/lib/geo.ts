/**
 * Country (and region) of a request's client, without storing its IP.
 *
 * Two sources, in this order:
 * 1. CloudFront's viewer headers, when the request came through the distribution and the stage
 *    trusts them (PipelineConfig.cloudFront): `CloudFront-Viewer-Country` (ISO 3166-1 alpha-2) and
 *    `CloudFront-Viewer-Country-Region` (the subdivision part of an ISO 3166-2 code, up to three
 *    characters, so it is stored as `US-CA`), per the CloudFront Developer Guide, "Add CloudFront
 *    request headers", section "Viewer location headers"; `CloudFront-Viewer-Address` is the viewer's
 *    `IP:port` (IPv6 unbracketed, so the port is after the last colon). Behind CloudFront, API
 *    Gateway's sourceIp is the edge's address, so the viewer address is the client IP.
 * 2. The bundled table (geo/dbip-country.bin, made by scripts/geo-db.ts from DB-IP's IP to Country
 *    Lite, CC BY 4.0), read from disk on the first lookup: kept out of the JS bundle so the cold
 *    start does not parse it, and laid out so that loading is one read per address family plus
 *    typed-array views (an IPv4 client's first request reads the 1.8 MB IPv4 part only).
 *
 * The IP is used in memory only: nothing here logs or returns it beyond the caller's own value.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { timingSafeEqual } from 'node:crypto';

/** File layout, little-endian: see scripts/geo-db.ts, which writes it. */
export const GEO_MAGIC = 'CSGEO002';
/**
 * magic (8) | u32 header JSON length | header JSON, padded to 4 bytes |
 * IPv4: starts u32[n4], codes u8[n4], padding to 4 bytes |
 * IPv6: starts u32[4 * n6] (four words per address, most significant first), codes u8[n6].
 * Each list starts at address 0 and covers the whole space: a start's code (an index into the
 * header's country list; 0 = unknown) holds up to the next start.
 */
export interface GeoHeader {
  source: string;
  version: string;
  licence: string;
  countries: string[];
  v4: number;
  v6: number;
}

/** One address family's ranges: starts (one word per IPv4 address, four per IPv6) and codes. */
export interface GeoFamily {
  starts: Uint32Array;
  codes: Uint8Array;
}

export interface GeoTable {
  header: GeoHeader;
  /** codes[0] is null (unknown / unallocated). */
  codes: (string | null)[];
  /** The IPv4 ranges, read on first use. */
  v4(): GeoFamily;
  /** The IPv6 ranges, read on first use. */
  v6(): GeoFamily;
}

const pad4 = (n: number) => n + ((4 - (n % 4)) % 4);

/** Byte offsets of each family's part, from the header. */
export function geoLayout(headerLen: number, h: Pick<GeoHeader, 'v4' | 'v6'>): { v4: [number, number]; v6: [number, number] } {
  const v4At = pad4(12 + headerLen);
  const v6At = pad4(v4At + 5 * h.v4);
  return { v4: [v4At, 5 * h.v4], v6: [v6At, 17 * h.v6] };
}

/** A family's part of the file (starts then codes) as views; copied only if misaligned. */
function family(part: Uint8Array, n: number, words: number): GeoFamily {
  const buf = part.byteOffset % 4 === 0 ? part : new Uint8Array(part);
  return { starts: new Uint32Array(buf.buffer, buf.byteOffset, n * words), codes: buf.subarray(4 * words * n, 4 * words * n + n) };
}

function checkPlatform(): void {
  // The arrays are read in the platform's byte order; Lambda (x86_64 and arm64) is little-endian.
  if (endianness() !== 'LE') throw new GeoDataError('the geo table is little-endian; this platform is not');
}

function readHeader(first: Uint8Array): { header: GeoHeader; headerLen: number } {
  const text = new TextDecoder();
  if (first.length < 12 || text.decode(first.subarray(0, 8)) !== GEO_MAGIC)
    throw new GeoDataError(`not a geo table (expected magic ${GEO_MAGIC})`);
  const headerLen = new DataView(first.buffer, first.byteOffset, first.byteLength).getUint32(8, true);
  return { header: JSON.parse(text.decode(first.subarray(12, 12 + headerLen))) as GeoHeader, headerLen };
}

export class GeoDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GeoDataError';
  }
}

/** A whole file written by scripts/geo-db.ts, already in memory (tests, the generator's check). */
export function parseGeoTable(buf: Uint8Array): GeoTable {
  checkPlatform();
  const { header, headerLen } = readHeader(buf);
  const at = geoLayout(headerLen, header);
  if (buf.length !== at.v6[0] + at.v6[1])
    throw new GeoDataError(`geo table is ${buf.length} bytes; its header says ${at.v6[0] + at.v6[1]}`);
  const v4 = family(buf.subarray(at.v4[0], at.v4[0] + at.v4[1]), header.v4, 1);
  const v6 = family(buf.subarray(at.v6[0], at.v6[0] + at.v6[1]), header.v6, 4);
  return { header, codes: [null, ...header.countries], v4: () => v4, v6: () => v6 };
}

/** The file at `path`: its header now, each family's part on first use (one read each). */
function openGeoTable(path: string): GeoTable {
  checkPlatform();
  const readPart = (offset: number, length: number) => {
    const fd = openSync(path, 'r');
    try {
      const part = Buffer.allocUnsafeSlow(length);
      if (readSync(fd, part, 0, length, offset) !== length) throw new GeoDataError(`geo table ${path} is shorter than its header says`);
      return part;
    } finally {
      closeSync(fd);
    }
  };
  const head = readPart(0, 12);
  const headerLen = head.readUInt32LE(8);
  const { header } = readHeader(readPart(0, 12 + headerLen));
  const at = geoLayout(headerLen, header);
  let v4: GeoFamily | undefined;
  let v6: GeoFamily | undefined;
  return {
    header,
    codes: [null, ...header.countries],
    v4: () => (v4 ??= family(readPart(...at.v4), header.v4, 1)),
    v6: () => (v6 ??= family(readPart(...at.v6), header.v6, 4)),
  };
}

/** Dotted quad -> unsigned 32-bit number, or -1. Strict: four decimal parts 0..255, no leading zeros. */
export function parseIPv4(s: string, from = 0, to = s.length): number {
  let n = 0;
  let part = -1;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = -1;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1;
      part = (part < 0 ? 0 : part * 10) + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || part < 0) return -1;
  return n * 256 + part;
}

/**
 * IPv6 text (RFC 4291 2.2: `::` compression, an IPv4 tail, an optional `%zone`) -> four 32-bit words
 * in `out`, most significant first. Returns false for anything else.
 */
export function parseIPv6(s: string, out: Uint32Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (end === 2) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    let j = i;
    let v = 0;
    while (j < end && j - i < 5) {
      const c = s.charCodeAt(j);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      v = v * 16 + d;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // IPv4 tail: the last 32 bits.
      const v4 = parseIPv4(s, i, end);
      if (v4 < 0 || groups.length > 6) return false;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = end;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups.push(v);
    if (j === end) {
      i = end;
      break;
    }
    if (s.charCodeAt(j) !== 58) return false;
    if (j + 1 < end && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const fill = 8 - groups.length;
  for (let w = 0; w < 4; w++) {
    const at = (k: number) => (gap < 0 || k < gap ? groups[k]! : k < gap + fill ? 0 : groups[k - fill]!);
    out[w] = ((at(2 * w) << 16) | at(2 * w + 1)) >>> 0;
  }
  return true;
}

const scratch = new Uint32Array(4);

/** The last index whose start <= ip (a list always starts at 0, so there is one). */
function searchV4(starts: Uint32Array, ip: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= ip) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function searchV6(starts: Uint32Array, ip: Uint32Array): number {
  let lo = 0;
  let hi = (starts.length >>> 2) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const b = mid << 2;
    let le = true;
    for (let w = 0; w < 4; w++) {
      const x = starts[b + w]!;
      const y = ip[w]!;
      if (x !== y) {
        le = x < y;
        break;
      }
    }
    if (le) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * ISO 3166-1 alpha-2 country of an IPv4 or IPv6 address in `table`, or null (unknown, unallocated,
 * private or not an address). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is looked up as IPv4.
 */
export function lookupCountry(table: GeoTable, ip: string): string | null {
  if (ip.indexOf(':') < 0) {
    const v4 = parseIPv4(ip);
    if (v4 < 0) return null;
    const f = table.v4();
    return table.codes[f.codes[searchV4(f.starts, v4)]!] ?? null;
  }
  if (!parseIPv6(ip, scratch)) return null;
  if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff) {
    const f = table.v4();
    return table.codes[f.codes[searchV4(f.starts, scratch[3]!)]!] ?? null;
  }
  const f = table.v6();
  return table.codes[f.codes[searchV6(f.starts, scratch)]!] ?? null;
}

const tables = new Map<string, GeoTable>();

/** The table at `path` (its header read now, its ranges on first use), kept for the life of the process. */
export function geoTable(path: string): GeoTable {
  let t = tables.get(path);
  if (!t) {
    try {
      t = openGeoTable(path);
    } catch (cause) {
      throw new GeoDataError(`cannot read the geo table ${path}: ${(cause as Error).message}`, { cause });
    }
    tables.set(path, t);
  }
  return t;
}

const lookups = new Map<string, (ip: string) => string | null>();

/** `ip -> country` over the table at `path`; the table is read on the first call, not here. */
export function countryLookup(path: string): (ip: string) => string | null {
  let f = lookups.get(path);
  if (!f) {
    let table: GeoTable | undefined;
    f = (ip: string) => {
      table ??= geoTable(path);
      return lookupCountry(table, ip);
    };
    lookups.set(path, f);
  }
  return f;
}

/** How a stage treats CloudFront's viewer headers (PipelineConfig.cloudFront). */
export interface CloudFrontTrust {
  /** TRUST_CLOUDFRONT_HEADERS=true: the stage sits behind the distribution. */
  trust: boolean;
  /**
   * CLOUDFRONT_ORIGIN_SECRET: when set, the headers are believed only on requests that carry it in
   * `x-origin-verify`, an origin custom header the distribution adds (CloudFront developer guide,
   * "Add custom headers to origin requests": a custom header lets the origin tell CloudFront's
   * requests from ones that bypass it), so a client calling the API directly cannot forge them.
   */
  originSecret?: string;
}

/** The request headers geo reads (lower-case, as API Gateway's payload 2.0 gives them). */
export interface GeoHeaders {
  'cloudfront-viewer-country'?: string;
  'cloudfront-viewer-country-region'?: string;
  'cloudfront-viewer-address'?: string;
  'x-origin-verify'?: string;
  /** Read only by the local stack's switch (forwardedForFromLoopback). */
  'x-forwarded-for'?: string;
}

export interface ClientGeo {
  /** The client's IP, for the visitor hash and other in-memory checks; never stored. */
  ip: string;
  country: string | null;
  region: string | null;
}

const COUNTRY = /^[A-Z]{2}$/;
const REGION = /^[A-Z0-9]{1,3}$/;

function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `IP:port` (IPv6 unbracketed, or bracketed) -> IP; undefined when it is not an address. */
function viewerIp(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let ip = address.slice(0, colon);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  return isAddress(ip) ? ip : undefined;
}

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1' || /^::ffff:127\./i.test(ip);
const isAddress = (ip: string) => (ip.indexOf(':') < 0 ? parseIPv4(ip) >= 0 : parseIPv6(ip, scratch));

/**
 * Local stack only (LOCAL_FORWARDED_FOR=true): a request whose socket peer is loopback may name its
 * client in X-Forwarded-For (the first entry), so tests and the simulator can present real-looking
 * addresses through serverless offline, which always reports 127.0.0.1. On AWS the peer is never
 * loopback, so the switch cannot make a deployed stage believe a client-sent header.
 */
export function forwardedForFromLoopback(sourceIp: string | undefined, headers: GeoHeaders | undefined): string | undefined {
  const xff = headers?.['x-forwarded-for'];
  if (!sourceIp || !xff || !isLoopback(sourceIp)) return sourceIp;
  const first = xff.split(',')[0]!.trim();
  return isAddress(first) ? first : sourceIp;
}

/**
 * Client IP, country and region of one request. CloudFront's headers win when the stage trusts
 * them (and, with an origin secret, when the request proves it came through the distribution);
 * otherwise the headers are ignored and the country comes from `lookup(sourceIp)`.
 */
export function resolveClient(
  sourceIp: string | undefined,
  headers: GeoHeaders | undefined,
  cf: CloudFrontTrust,
  lookup: ((ip: string) => string | null) | undefined,
): ClientGeo {
  const h = headers ?? {};
  if (cf.trust && (cf.originSecret === undefined || secretMatches(h['x-origin-verify'], cf.originSecret))) {
    const ip = viewerIp(h['cloudfront-viewer-address']) ?? sourceIp ?? '';
    const country = h['cloudfront-viewer-country']?.toUpperCase();
    if (country !== undefined && COUNTRY.test(country)) {
      const sub = h['cloudfront-viewer-country-region']?.toUpperCase();
      return { ip, country, region: sub !== undefined && REGION.test(sub) ? `${country}-${sub}` : null };
    }
    return { ip, country: ip && lookup ? lookup(ip) : null, region: null };
  }
  const ip = sourceIp ?? '';
  return { ip, country: ip && lookup ? lookup(ip) : null, region: null };
}
