/**
 * Builds geo/dbip-country.bin, the IP-to-country table the ingest Lambda reads (handlers/lib/geo.ts),
 * from the CSVs of the npm package @ip-location-db/dbip-country (DB-IP's IP to Country Lite,
 * CC BY 4.0, a new edition monthly). `npm run geo:update` = update the package, then rebuild this file;
 * `--check` rebuilds in memory and fails if the committed file differs from the installed package.
 *
 * The table is a file of its own, not part of the JS bundle: a 700,000-range table as JS would be
 * parsed at every cold start, while this layout is used in place (typed-array views over one read).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GEO_MAGIC, geoLayout, type GeoHeader } from '../handlers/lib/geo';

const root = join(__dirname, '..');
export const GEO_DB_FILE = join(root, 'geo', 'dbip-country.bin');
const PKG = '@ip-location-db/dbip-country';

export interface Range {
  start: bigint;
  end: bigint;
  country: string;
}

export function pkgDir(): string {
  return dirname(require.resolve(`${PKG}/package.json`, { paths: [root] }));
}

/** `start,end,CC` lines with numeric addresses (the package's *-num.csv files). */
export function readRanges(file: string): Range[] {
  const out: Range[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [a, b, c] = line.split(',');
    if (!a || !b || !c || !/^[A-Z]{2}$/.test(c.trim())) throw new Error(`${file}: unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    out.push({ start: BigInt(a), end: BigInt(b), country: c.trim() });
  }
  return out;
}

/** Ranges -> gapless starts (code 0 = not in the data), merging neighbours of the same country. */
function starts(ranges: Range[], index: Map<string, number>): { starts: bigint[]; codes: number[] } {
  const s: bigint[] = [];
  const codes: number[] = [];
  let next = 0n;
  const push = (at: bigint, code: number) => {
    if (codes.length && codes[codes.length - 1] === code) return;
    s.push(at);
    codes.push(code);
  };
  for (const r of [...ranges].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0))) {
    if (r.start < next) throw new Error(`overlapping ranges at ${r.start}`);
    if (r.start > next) push(next, 0);
    push(r.start, index.get(r.country)!);
    next = r.end + 1n;
  }
  push(next, 0);
  // A trailing start past the address space (end = max address) is dropped by the caller's width.
  return { starts: s, codes };
}

export function buildGeoTable(dir = pkgDir()): Buffer {
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const v4 = readRanges(join(dir, 'dbip-country-ipv4-num.csv'));
  const v6 = readRanges(join(dir, 'dbip-country-ipv6-num.csv'));
  const countries = [...new Set([...v4, ...v6].map((r) => r.country))].sort();
  if (countries.length > 255) throw new Error('more than 255 countries: widen the code column');
  const index = new Map(countries.map((c, i) => [c, i + 1]));
  const a = starts(v4, index);
  const b = starts(v6, index);
  // Drop a start at 2^32 / 2^128 (after a range that ends at the last address).
  if (a.starts[a.starts.length - 1] === 1n << 32n) {
    a.starts.pop();
    a.codes.pop();
  }
  if (b.starts[b.starts.length - 1] === 1n << 128n) {
    b.starts.pop();
    b.codes.pop();
  }
  const header: GeoHeader = {
    source: `${PKG}@${version} (DB-IP IP to Country Lite, https://db-ip.com)`,
    version,
    licence: 'CC BY 4.0; attribution: IP Geolocation by DB-IP (https://db-ip.com)',
    countries,
    v4: a.starts.length,
    v6: b.starts.length,
  };
  const json = Buffer.from(JSON.stringify(header));
  const at = geoLayout(json.length, header);
  const out = Buffer.alloc(at.v6[0] + at.v6[1]);
  out.write(GEO_MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  let off = at.v4[0];
  for (const s of a.starts) {
    out.writeUInt32LE(Number(s), off);
    off += 4;
  }
  for (const c of a.codes) out[off++] = c;
  off = at.v6[0];
  for (const s of b.starts) {
    for (let w = 3; w >= 0; w--) {
      out.writeUInt32LE(Number((s >> BigInt(32 * w)) & 0xffffffffn), off);
      off += 4;
    }
  }
  for (const c of b.codes) out[off++] = c;
  return out;
}

if (require.main === module) {
  const built = buildGeoTable();
  if (process.argv.includes('--check')) {
    let committed: Buffer | undefined;
    try {
      committed = readFileSync(GEO_DB_FILE);
    } catch {
      /* reported below */
    }
    if (!committed?.equals(built)) {
      process.stderr.write(`${GEO_DB_FILE} does not match the installed ${PKG}: run npm run geo:update (or tsx scripts/geo-db.ts)\n`);
      process.exit(1);
    }
    process.stdout.write(`geo table up to date (${built.length} bytes)\n`);
  } else {
    mkdirSync(dirname(GEO_DB_FILE), { recursive: true });
    writeFileSync(GEO_DB_FILE, built);
    process.stdout.write(`wrote ${GEO_DB_FILE} (${built.length} bytes)\n`);
  }
}
