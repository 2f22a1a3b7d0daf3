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
const cfnTags: Tags = [
  'GetAtt',
  'Sub',
  'Ref',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'ImportValue',
  'FindInMap',
  'Base64',
  'GetAZs',
  'Condition',
].flatMap((t) =>
  (['scalar', 'seq', 'map'] as const).map(
    (collection) => ({ tag: `!${t}`, collection, resolve: (v: unknown) => ({ [`Fn::${t}`]: v }) }) as never,
  ),
);

function lookup(root: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** `${param:name}`: the stage's params, then params.default (the framework's rule). */
function param(doc: Record<string, unknown>, stage: string, name: string): unknown {
  const value = lookup(doc, `params.${stage}.${name}`) ?? lookup(doc, `params.default.${name}`);
  if (value === undefined) throw new Error(`serverless.yml: param ${name} has no value for stage ${stage}`);
  return value;
}

function resolve(value: unknown, doc: Record<string, unknown>, stage: string): unknown {
  if (typeof value !== 'string') return value;
  let out: unknown = value;
  for (let i = 0; i < 10 && typeof out === 'string' && out.includes('${'); i++) {
    const whole = /^\$\{([^{}]+)\}$/.exec(out);
    const sub = (expr: string): unknown => {
      const [ref, fallback] = expr.split(',').map((s) => s.trim());
      if (ref === 'sls:stage' || ref === 'opt:stage') return stage;
      // The local stack passes no other CLI option: `${opt:region, 'us-east-1'}` is its fallback.
      if (ref?.startsWith('opt:') && fallback !== undefined) return fallback.replace(/^['"]|['"]$/g, '');
      if (ref?.startsWith('self:')) return lookup(doc, ref.slice(5));
      if (ref?.startsWith('param:')) return param(doc, stage, ref.slice(6));
      throw new Error(`serverless.yml: variable \${${expr}} is not supported by the local stack`);
    };
    out = whole ? sub(whole[1] as string) : out.replace(/\$\{([^{}]+)\}/g, (_, e: string) => String(sub(e)));
  }
  return out;
}

const SERVERLESS_YML = join(__dirname, '..', 'serverless.yml');
/** serverless.yml as plain data; CloudFormation tags become their Fn:: objects (their values are not resolved). */
export const readServerlessDoc = (file = SERVERLESS_YML) =>
  parseDocument(readFileSync(file, 'utf8'), { customTags: cfnTags }).toJS() as Record<string, unknown>;
const readDoc = readServerlessDoc;

export function readStreams(stage: string, file = SERVERLESS_YML): StreamConfig[] {
  const doc = readDoc(file);
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

/**
 * The two streams the ingest function writes to, found as the stack finds them: by the stream names
 * in its EVENTS_STREAM_NAME / REJECTS_STREAM_NAME environment (functions.ingest.environment).
 */
export function readIngestStreams(stage: string, file = SERVERLESS_YML): { events: StreamConfig; rejects: StreamConfig } {
  const doc = readDoc(file);
  const streams = readStreams(stage, file);
  const byEnv = (name: string): StreamConfig => {
    const streamName = resolve(lookup(doc, `functions.ingest.environment.${name}`), doc, stage);
    const found = streams.find((s) => s.name === streamName);
    if (!found) throw new Error(`serverless.yml: functions.ingest.environment.${name} (${String(streamName)}) names no delivery stream`);
    return found;
  };
  return { events: byEnv('EVENTS_STREAM_NAME'), rejects: byEnv('REJECTS_STREAM_NAME') };
}

/** provider.httpApi.cors as API Gateway applies it (the framework's names). */
export interface CorsConfig {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposedResponseHeaders: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

export interface HttpApiConfig {
  /** undefined when serverless.yml configures no CORS (API Gateway then passes the integration's headers through). */
  cors?: CorsConfig;
  /** The timeout of the function behind the routes (its own, else provider.timeout; the framework's default is 6 s). */
  timeoutSeconds: number;
}

/**
 * `${file(./scripts/x.js):name}`: what the framework does for a JS file, for the resolvers this
 * file uses (they take `{ resolveVariable }`).
 */
async function resolveFileVariable(value: unknown, doc: Record<string, unknown>, stage: string): Promise<unknown> {
  if (typeof value !== 'string') return value;
  const m = /^\$\{file\(([^)]+)\):([A-Za-z0-9_]+)\}$/.exec(value);
  if (!m) return resolve(value, doc, stage);
  // require, as the framework loads these CommonJS resolvers.
  const exported = (require(join(__dirname, '..', m[1] as string)) as Record<string, unknown>)[m[2] as string];
  if (typeof exported !== 'function') return exported;
  return (exported as (o: { resolveVariable: (v: string) => Promise<unknown> }) => unknown)({
    resolveVariable: async (v: string) => resolve(`\${${v}}`, doc, stage),
  });
}

const missing = (key: string): never => {
  throw new Error(`serverless.yml: set ${key} explicitly; the local API Gateway stand-in does not derive it`);
};
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

/** The HTTP API settings the local API Gateway stand-in (local/api-gateway.ts) imitates. */
export async function readHttpApi(stage: string, file = SERVERLESS_YML): Promise<HttpApiConfig> {
  const doc = readDoc(file);
  const providerTimeout = lookup(doc, 'provider.timeout') ?? 6;
  const functions = Object.values(
    (lookup(doc, 'functions') ?? {}) as Record<string, { timeout?: unknown; events?: Record<string, unknown>[] }>,
  );
  const routed = functions.filter((f) => (f.events ?? []).some((e) => 'httpApi' in e));
  if (routed.length === 0) throw new Error('serverless.yml: no function has an httpApi event');
  // One bound for the stand-in: the longest of the routed functions.
  const timeoutSeconds = Math.max(...routed.map((f) => Number(resolve(f.timeout ?? providerTimeout, doc, stage))));
  const cors = lookup(doc, 'provider.httpApi.cors') as Record<string, unknown> | boolean | undefined;
  if (!cors) return { timeoutSeconds };
  // `cors: true` is the framework's shorthand for allow-all.
  const c = cors === true ? {} : cors;
  const get = async (key: string) => resolveFileVariable(c[key], doc, stage);
  return {
    timeoutSeconds,
    cors: {
      allowedOrigins: list((await get('allowedOrigins')) ?? '*'),
      // The framework derives unset methods from the routes; the stand-in does not, so it refuses.
      allowedMethods: list((await get('allowedMethods')) ?? missing('provider.httpApi.cors.allowedMethods')),
      allowedHeaders: list(
        (await get('allowedHeaders')) ?? [
          'Content-Type',
          'X-Amz-Date',
          'Authorization',
          'X-Api-Key',
          'X-Amz-Security-Token',
          'X-Amz-User-Agent',
          'X-Amzn-Trace-Id',
        ],
      ),
      exposedResponseHeaders: list(await get('exposedResponseHeaders')),
      allowCredentials: (await get('allowCredentials')) === true,
      maxAge: c.maxAge === undefined ? undefined : Number(await get('maxAge')),
    },
  };
}

/** provider.region as the local stage resolves it (the deploy's default region). */
export function readRegion(stage: string, file = SERVERLESS_YML): string {
  const doc = readDoc(file);
  return String(resolve(lookup(doc, 'provider.region') ?? 'us-east-1', doc, stage));
}
