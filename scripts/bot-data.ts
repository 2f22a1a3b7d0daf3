/**
 * Builds handlers/lib/generated/bot-data.ts, the two lists of the bot filter that are data rather
 * than code (`npm run bots:data`). Neither is downloaded at install or at run time: the output is a
 * committed snapshot, refreshed by running this script on purpose and reviewing the diff.
 *
 *   referrer_spam  handlers/lib/bot-data/referrer-spammers.txt, a snapshot of Matomo's
 *                  community list (github.com/matomo-org/referrer-spam-list, spammers.txt, Public
 *                  Domain). It is published through Composer, not npm: refresh by replacing the
 *                  file with the repository's current spammers.txt.
 *   datacenter_ip  the address ranges announced by the cloud and hosting networks in
 *                  handlers/lib/bot-data/datacenter-asns.json, taken from the npm package
 *                  @ip-location-db/asn (RouteViews + RIR + DB-IP data, CC BY 4.0). The package is
 *                  64 MB, so it is not a dependency: `npm install --no-save @ip-location-db/asn`
 *                  first. Without it the ranges of the current snapshot are kept.
 *
 * Encoding (the Lambda bundle is capped at 300 KB): each list is deflated and base64-encoded.
 * IPv4 ranges are kept at /24 and IPv6 at /48 granularity (the longest prefixes the global routing
 * table carries), sorted, merged, and written as LEB128 varints of (gap from the previous range's
 * end, length), which handlers/lib/bots.ts decodes on first use.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

const root = join(__dirname, '..');
const OUT = join(root, 'handlers/lib/generated/bot-data.ts');
const SPAM = join(root, 'handlers/lib/bot-data/referrer-spammers.txt');
const ASNS = join(root, 'handlers/lib/bot-data/datacenter-asns.json');
// ASN_PACKAGE_DIR: the package unpacked elsewhere (npm install --prefix /tmp/x ...), leaving node_modules alone.
const ASN_PKG = process.env.ASN_PACKAGE_DIR ?? join(root, 'node_modules/@ip-location-db/asn');

/** Hosts, lower-cased, de-duplicated and sorted: the same file always gives the same output. */
export function spamHosts(text: string): string[] {
  return [
    ...new Set(
      text
        .split('\n')
        .map((l) => l.trim().toLowerCase())
        .filter((l) => l && !l.startsWith('#')),
    ),
  ].sort();
}

function varint(n: bigint, out: number[]): void {
  do {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? b | 0x80 : b);
  } while (n > 0n);
}

/** Inclusive [start, end] ranges at `shift` bits coarser, merged, as varint (gap, length) pairs. */
export function encodeRanges(ranges: Array<[bigint, bigint]>, shift: bigint): string {
  const sorted = ranges
    .map(([s, e]) => [s >> shift, e >> shift] as [bigint, bigint])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: Array<[bigint, bigint]> = [];
  for (const [s, e] of sorted) {
    const last = merged[merged.length - 1];
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take.
    if (last && s <= last[1] + 1n) last[1] = e > last[1] ? e : last[1];
    else merged.push([s, e]);
  }
  const bytes: number[] = [];
  let prev = 0n;
  for (const [s, e] of merged) {
    varint(s - prev, bytes);
    varint(e - s, bytes);
    prev = e;
  }
  return deflateRawSync(Buffer.from(bytes), { level: 9 }).toString('base64');
}

interface AsnList {
  comment: string;
  asns: Record<string, string>;
}

function fromAsnPackage(list: AsnList): { v4: string; v6: string; source: string; ranges: number } {
  const wanted = new Map(Object.entries(list.asns).map(([asn, org]) => [asn, org]));
  const seen = new Map<string, string>();
  const read = (file: string): Array<[bigint, bigint]> => {
    const out: Array<[bigint, bigint]> = [];
    for (const line of readFileSync(join(ASN_PKG, file), 'utf8').split('\n')) {
      const m = /^(\d+),(\d+),(\d+),(.*)$/.exec(line);
      if (!m || !wanted.has(m[3]!)) continue;
      seen.set(m[3]!, m[4]!.replace(/^"|"$/g, ''));
      out.push([BigInt(m[1]!), BigInt(m[2]!)]);
    }
    return out;
  };
  const v4 = read('asn-ipv4-num.csv');
  const v6 = read('asn-ipv6-num.csv');
  // A typo in an AS number would silently mark someone else's network: each must still belong
  // to the organisation the list names.
  for (const [asn, org] of wanted) {
    const actual = seen.get(asn);
    if (!actual?.toLowerCase().includes(org.toLowerCase()))
      throw new Error(`AS${asn}: expected ${org}, the package says ${actual ?? 'nothing'}`);
  }
  const version = (JSON.parse(readFileSync(join(ASN_PKG, 'package.json'), 'utf8')) as { version: string }).version;
  return { v4: encodeRanges(v4, 8n), v6: encodeRanges(v6, 80n), source: `@ip-location-db/asn@${version}`, ranges: v4.length + v6.length };
}

function currentDatacenter(): { v4: string; v6: string; source: string; ranges: number } | undefined {
  if (!existsSync(OUT)) return undefined;
  const text = readFileSync(OUT, 'utf8');
  const get = (name: string) => new RegExp(`export const ${name} = '([^']*)'`).exec(text)?.[1];
  const source = /\/\/ datacenter_ip: (\S+), (\d+) ranges/.exec(text);
  const v4 = get('DATACENTER_V4');
  const v6 = get('DATACENTER_V6');
  return v4 && v6 && source ? { v4, v6, source: source[1]!, ranges: Number(source[2]) } : undefined;
}

function main(): void {
  const list = JSON.parse(readFileSync(ASNS, 'utf8')) as AsnList;
  const dc = existsSync(ASN_PKG) ? fromAsnPackage(list) : currentDatacenter();
  if (!dc) throw new Error('no datacenter ranges: npm install --no-save @ip-location-db/asn, then run again');
  const hosts = spamHosts(readFileSync(SPAM, 'utf8'));
  const spam = deflateRawSync(Buffer.from(hosts.join('\n')), { level: 9 }).toString('base64');
  writeFileSync(
    OUT,
    `// Generated by \`npm run bots:data\` (scripts/bot-data.ts). Do not edit.
// referrer_spam: handlers/lib/bot-data/referrer-spammers.txt (Matomo referrer-spam-list, Public Domain), ${hosts.length} hosts.
// datacenter_ip: ${dc.source}, ${dc.ranges} ranges of the networks in handlers/lib/bot-data/datacenter-asns.json (CC BY 4.0: RouteViews, NRO, DB-IP).
export const REFERRER_SPAM = '${spam}';
export const DATACENTER_V4 = '${dc.v4}';
export const DATACENTER_V6 = '${dc.v6}';
`,
  );
  console.log(`wrote ${OUT}: ${hosts.length} spam hosts, ${dc.ranges} datacenter ranges from ${dc.source}`);
}

if (require.main === module) main();
