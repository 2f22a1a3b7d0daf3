/**
 * Reads the Firehose delivery streams from serverless.yml, so the local stand-in buffers, names and
 * compresses exactly as the deployed streams are configured. Resolves the few variable forms the
 * file uses for them (${self:...}, ${sls:stage}); CloudFormation tags are kept as opaque values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type Tags } from 'yaml';

export interface StreamConfig {
  name: string;
  intervalSeconds: number;
  sizeMB: number;
  gzip: boolean;
  prefix: string;
  errorOutputPrefix: string;
}

// !GetAtt, !Sub, !Ref ... : keep the YAML parseable; their values are not needed locally.
const cfnTags: Tags = ['GetAtt', 'Sub', 'Ref', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'ImportValue', 'FindInMap', 'Base64', 'GetAZs', 'Condition']
  .flatMap((t) => (['scalar', 'seq', 'map'] as const).map((collection) => ({ tag: `!${t}`, collection, resolve: (v: unknown) => ({ [`Fn::${t}`]: v }) } as never)));

function lookup(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

function resolve(value: unknown, doc: Record<string, unknown>, stage: string): unknown {
  if (typeof value !== 'string') return value;
  let out: unknown = value;
  for (let i = 0; i < 10 && typeof out === 'string' && out.includes('${'); i++) {
    const whole = /^\$\{([^{}]+)\}$/.exec(out);
    const sub = (expr: string): unknown => {
      const [ref] = expr.split(',').map((s) => s.trim());
      if (ref === 'sls:stage' || ref === "opt:stage") return stage;
      if (ref?.startsWith('self:')) return lookup(doc, ref.slice(5));
      throw new Error(`serverless.yml: variable \${${expr}} is not supported by the local stack`);
    };
    out = whole ? sub(whole[1] as string) : out.replace(/\$\{([^{}]+)\}/g, (_, e: string) => String(sub(e)));
  }
  return out;
}

export function readStreams(stage: string, file = join(__dirname, '..', 'serverless.yml')): StreamConfig[] {
  const doc = parseDocument(readFileSync(file, 'utf8'), { customTags: cfnTags }).toJS() as Record<string, unknown>;
  const resources = (lookup(doc, 'resources.Resources') ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  const streams: StreamConfig[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::KinesisFirehose::DeliveryStream') continue;
    const p = r.Properties ?? {};
    const s3 = (p.ExtendedS3DestinationConfiguration ?? {}) as Record<string, unknown>;
    const hints = (s3.BufferingHints ?? {}) as Record<string, unknown>;
    streams.push({
      name: String(resolve(p.DeliveryStreamName, doc, stage)),
      // Firehose defaults: 300 s / 5 MB when BufferingHints are absent.
      intervalSeconds: Number(resolve(hints.IntervalInSeconds ?? 300, doc, stage)),
      sizeMB: Number(resolve(hints.SizeInMBs ?? 5, doc, stage)),
      gzip: resolve(s3.CompressionFormat, doc, stage) === 'GZIP',
      prefix: String(resolve(s3.Prefix ?? '', doc, stage)),
      errorOutputPrefix: String(resolve(s3.ErrorOutputPrefix ?? '', doc, stage)),
    });
  }
  if (streams.length === 0) throw new Error('serverless.yml defines no AWS::KinesisFirehose::DeliveryStream');
  return streams;
}
