/**
 * Plausible client addresses for simulated visitors, drawn from the same IP-to-country table the
 * ingest Lambda reads (geo/dbip-country.bin), so a visitor's country is known exactly: the address
 * lies inside a range the table gives that country, and the ground truth is the country drawn.
 */
import { join } from 'node:path';
import { DEFAULT_GEO_DB } from '../../handlers/lib/config';
import { isDatacenterIp } from '../../handlers/lib/bots';
import { geoTable, type GeoTable } from '../../handlers/lib/geo';
import type { Rng } from './generate';

/** Where the demo restaurant's visitors come from (weights), most from Italy. */
export const VISITOR_COUNTRIES: readonly (readonly [string, number])[] = [
  ['IT', 45],
  ['DE', 10],
  ['US', 10],
  ['GB', 8],
  ['FR', 7],
  ['ES', 5],
  ['CH', 5],
  ['NL', 4],
  ['AT', 3],
  ['JP', 2],
  ['BR', 1],
];
/** Share of visitors that reach the site over IPv6. */
export const IPV6_SHARE = 0.3;

export const simGeoTable = (): GeoTable => geoTable(join(__dirname, '..', '..', DEFAULT_GEO_DB));

const index = new WeakMap<GeoTable, Map<string, { v4: number[]; v6: number[] }>>();

function rangesOf(table: GeoTable, country: string): { v4: number[]; v6: number[] } {
  let byCountry = index.get(table);
  if (!byCountry) {
    byCountry = new Map();
    index.set(table, byCountry);
  }
  let r = byCountry.get(country);
  if (!r) {
    const code = table.codes.indexOf(country);
    if (code <= 0) throw new Error(`country ${country} is not in the geo table`);
    const pick = (codes: Uint8Array) => {
      const at: number[] = [];
      codes.forEach((c, i) => {
        if (c === code) at.push(i);
      });
      return at;
    };
    r = { v4: pick(table.v4().codes), v6: pick(table.v6().codes) };
    byCountry.set(country, r);
  }
  return r;
}

const v6Start = (t: GeoTable, i: number): bigint => {
  let x = 0n;
  const starts = t.v6().starts;
  for (let w = 0; w < 4; w++) x = (x << 32n) | BigInt(starts[4 * i + w]!);
  return x;
};

/**
 * A home or mobile address in `country` (IPv6 when `v6`): uniformly over the country's ranges, then
 * within one, drawn again while it falls in a cloud or hosting network (the bot filter's
 * datacenter_ip layer, handlers/lib/bots.ts), since a simulated human must not look like a server.
 */
export function addressIn(table: GeoTable, country: string, v6: boolean, r: Rng): string {
  for (;;) {
    const ip = anyAddressIn(table, country, v6, r);
    if (!isDatacenterIp(ip)) return ip;
  }
}

function anyAddressIn(table: GeoTable, country: string, v6: boolean, r: Rng): string {
  const ranges = rangesOf(table, country);
  if (v6 && ranges.v6.length) {
    const i = r.pick(ranges.v6);
    const start = v6Start(table, i);
    const end = i + 1 < table.header.v6 ? v6Start(table, i + 1) : 1n << 128n;
    const span = end - start;
    // Somewhere in the first 2^32 addresses of the range (ranges are often /32 or wider).
    const offset = BigInt(r.int(0, Number(span < 1n << 32n ? span - 1n : 0xffffffffn)));
    const a = start + offset;
    return Array.from({ length: 8 }, (_, g) => ((a >> BigInt(16 * (7 - g))) & 0xffffn).toString(16)).join(':');
  }
  const i = r.pick(ranges.v4);
  const starts = table.v4().starts;
  const start = starts[i]!;
  const end = i + 1 < starts.length ? starts[i + 1]! : 2 ** 32;
  const a = start + r.int(0, end - start - 1);
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}
