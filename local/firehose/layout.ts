/**
 * The S3 key layout Amazon Data Firehose writes, shared by the local stand-in and the simulator so
 * both produce exactly what the real service does:
 *   <Prefix evaluated at arrival time, UTC><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz]
 * Prefix expressions supported: !{timestamp:<Java date pattern>}, !{firehose:random-string},
 * !{firehose:error-output-type}. (Firehose developer guide, "Custom Prefixes for Amazon S3 Objects".)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats a UTC date with the subset of java.time.format patterns Firehose prefixes use. */
export function formatTimestamp(pattern: string, at: Date): string {
  const parts: Record<string, string> = {
    yyyy: String(at.getUTCFullYear()),
    MM: pad(at.getUTCMonth() + 1),
    dd: pad(at.getUTCDate()),
    HH: pad(at.getUTCHours()),
    mm: pad(at.getUTCMinutes()),
    ss: pad(at.getUTCSeconds()),
  };
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss/g, (token) => parts[token] ?? token);
}

export interface PrefixContext {
  at: Date;
  errorOutputType?: string;
}

/** Evaluates a Firehose Prefix / ErrorOutputPrefix expression. */
export function evaluatePrefix(prefix: string, ctx: PrefixContext): string {
  return prefix.replace(/!\{([a-z]+):([^}]*)\}/g, (whole, namespace: string, arg: string) => {
    if (namespace === 'timestamp') return formatTimestamp(arg, ctx.at);
    if (namespace === 'firehose' && arg === 'random-string') return randomUUID().slice(0, 11);
    if (namespace === 'firehose' && arg === 'error-output-type') return ctx.errorOutputType ?? 'processing-failed';
    throw new Error(`unsupported Firehose prefix expression ${whole}`);
  });
}

/** Object key for one delivered object, as Firehose names it. */
export function objectKey(opts: {
  prefix: string;
  stream: string;
  version?: number;
  at: Date;
  gzip: boolean;
  errorOutputType?: string;
}): string {
  const { prefix, stream, version = 1, at, gzip } = opts;
  const stamp = formatTimestamp('yyyy-MM-dd-HH-mm-ss', at);
  return `${evaluatePrefix(prefix, { at, errorOutputType: opts.errorOutputType })}${stream}-${version}-${stamp}-${randomUUID()}${gzip ? '.gz' : ''}`;
}

/**
 * The objects under a folder of this layout, at any depth, as full paths in name order: files whose
 * name ends in `ext` (any file when ''), never the stand-in's half-written `.tmp` files. A missing
 * folder has none.
 */
export function objectsUnder(dir: string, ext = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(ext) && !d.name.endsWith('.tmp'))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}
