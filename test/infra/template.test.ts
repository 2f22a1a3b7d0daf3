/**
 * The deployable template, proven offline: `osls package --stage dev` twice (the default and
 * `--param dataFormat=parquet`), then assertions on the CloudFormation JSON they write.
 * Most tests read the effective template (conditions evaluated: test/infra/effective.ts), so values
 * inside `Fn::If` branches are checked too. INFRA_TEMPLATE=path (and INFRA_TEMPLATE_PARQUET=path)
 * skip packaging and check those files instead (used to confirm these tests fail on a template with
 * a resource or guard removed).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { EVENT_COLUMNS, PARTITION_COLUMNS, REJECT_COLUMNS } from '../../schema/columns';
import { batchSchema } from '../../schema/event';
import { backoffMs } from '../../handlers/lib/retry';
import { objectKey } from '../../local/firehose/layout';
import { readStreams } from '../../local/serverless-config';
import { loadSpec, validateTemplate } from './cfn-spec';
import { effectiveTemplate, type CfnTemplate } from './effective';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped
type Json = any;
interface Template extends CfnTemplate { Outputs: Record<string, Json> }

const root = join(__dirname, '..', '..');
/** As packaged with the default params (conditions unevaluated). */
let raw: Template;
/** Effective templates: what CloudFormation creates with the default params and with dataFormat=parquet. */
let template: Template;
let parquet: Template;
let tmp: string | undefined;

async function osPackage(dir: string, name: string, extra: string[]): Promise<Template> {
  const out = join(dir, name);
  // v3-family CLIs write ~/.serverless and TMPDIR; the build dir keeps clear of other stacks' builds.
  const env = { ...process.env, HOME: dir, TMPDIR: dir, CLICKSTREAM_BUILD_DIR: join(dir, `build-${name}`), SLS_TELEMETRY_DISABLED: '1' };
  try {
    await promisify(execFile)(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'dev', '--package', out, ...extra], { cwd: root, env, timeout: 120_000, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`osls package ${extra.join(' ')} failed (${e.code}):\n${e.stdout}\n${e.stderr}`);
  }
  return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

beforeAll(async () => {
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Template;
  if (process.env.INFRA_TEMPLATE) {
    raw = read(process.env.INFRA_TEMPLATE);
    const p = process.env.INFRA_TEMPLATE_PARQUET ? read(process.env.INFRA_TEMPLATE_PARQUET) : raw;
    template = effectiveTemplate(raw);
    parquet = effectiveTemplate(p);
    return;
  }
  tmp = mkdtempSync(join(tmpdir(), 'clickstream-infra-'));
  // One after the other: osls always writes <service>/.serverless/serverless-state.json and
  // serverless-esbuild copies through <service>/.serverless, so parallel runs in one checkout race.
  const json = await osPackage(tmp, 'json', []);
  const pq = await osPackage(tmp, 'parquet', ['--param', 'dataFormat=parquet']);
  raw = json;
  template = effectiveTemplate(json);
  parquet = effectiveTemplate(pq);
}, 150_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ofType = (type: string, t: Template = template): [string, Json][] => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const res = (id: string): Json => {
  const r = template.Resources[id];
  if (!r) throw new Error(`resource ${id} missing from the template`);
  return r;
};
const glueColumns = (list: readonly { name: string; type: string }[]) => list.map((c) => ({ Name: c.name, Type: c.type }));

describe('CloudFormation spec', () => {
  const spec = loadSpec();

  test('every resource type and property name exists in the CloudFormation spec (as packaged, and inside either Fn::If branch)', () => {
    expect(validateTemplate(raw, spec)).toEqual([]);
    expect(validateTemplate(template, spec)).toEqual([]);
    expect(validateTemplate(parquet, spec)).toEqual([]);
  });

  test('the spec check catches a misspelled nested property and an unknown top-level one', () => {
    const bad = JSON.parse(JSON.stringify(template)) as Template;
    bad.Resources.AthenaWorkGroup.Properties.WorkGroupConfiguration.BytesScanedCutoffPerQuery = 1;
    bad.Resources.DataBucket.Properties.BucketEncription = {};
    const errors = validateTemplate(bad, spec);
    expect(errors).toEqual(expect.arrayContaining([
      'AthenaWorkGroup.WorkGroupConfiguration.BytesScanedCutoffPerQuery: unknown property',
      'DataBucket.BucketEncription: unknown property',
    ]));
  });
});

describe('Glue catalog', () => {
  test('database named clickstream_<stage> with underscores', () => {
    expect(res('GlueDatabase').Properties.DatabaseInput.Name).toBe('clickstream_dev');
  });

  test.each([
    ['EventsTable', 'events', EVENT_COLUMNS],
    ['RejectsTable', 'rejects', REJECT_COLUMNS],
  ] as const)('%s columns equal schema/columns.ts, OpenX JSON SerDe, partition projection', (id, prefix, columns) => {
    const t = res(id).Properties;
    expect(t.DatabaseName).toEqual({ Ref: 'GlueDatabase' });
    expect(t.TableInput.Name).toBe(prefix);
    const sd = t.TableInput.StorageDescriptor;
    expect(sd.Columns.map((c: Json) => ({ Name: c.Name, Type: c.Type }))).toEqual(glueColumns(columns));
    expect(t.TableInput.PartitionKeys.map((c: Json) => ({ Name: c.Name, Type: c.Type }))).toEqual(glueColumns(PARTITION_COLUMNS));
    expect(sd.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    const p = t.TableInput.Parameters;
    expect(p).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
    });
    // Joined at deploy time; the pieces must spell s3://<DataBucket>/<prefix>/dt=${dt}/hour=${hour}/.
    const parts = p['storage.location.template']['Fn::Join'][1] as Json[];
    expect(parts[1]).toEqual({ Ref: 'DataBucket' });
    expect(parts.filter((x) => typeof x === 'string').join('')).toBe(`s3:///${prefix}/dt=\${dt}/hour=\${hour}/`);
  });

  test('no crawler', () => {
    expect(ofType('AWS::Glue::Crawler')).toEqual([]);
  });
});

describe('Athena', () => {
  test('workgroup: enforced, scan cutoff from params, engine v3, encrypted results in the results bucket', () => {
    const c = res('AthenaWorkGroup').Properties.WorkGroupConfiguration;
    expect(c.EnforceWorkGroupConfiguration).toBe(true);
    expect(c.BytesScannedCutoffPerQuery).toBe(1073741824); // params.dev
    expect(c.EngineVersion.SelectedEngineVersion).toBe('Athena engine version 3');
    expect(c.ResultConfiguration.EncryptionConfiguration.EncryptionOption).toBe('SSE_S3');
    expect(JSON.stringify(c.ResultConfiguration.OutputLocation)).toContain('{"Ref":"ResultsBucket"}');
    const rules = res('ResultsBucket').Properties.LifecycleConfiguration.Rules as Json[];
    expect(rules.some((r) => r.Status === 'Enabled' && r.ExpirationInDays > 0)).toBe(true);
  });

  test('one NamedQuery per athena-queries/*.sql file (views as create_view_*), with the file as its SQL', () => {
    const dir = join(root, 'athena-queries');
    const files = [
      ...readdirSync(join(dir, 'views')).filter((f) => f.endsWith('.sql')).map((f) => ({ name: `create_view_${basename(f, '.sql')}`, path: join(dir, 'views', f) })),
      ...readdirSync(dir).filter((f) => f.endsWith('.sql')).map((f) => ({ name: basename(f, '.sql'), path: join(dir, f) })),
    ];
    expect(files.length).toBeGreaterThanOrEqual(15);
    const queries = ofType('AWS::Athena::NamedQuery').map(([, r]) => r.Properties);
    expect(queries.map((q) => q.Name).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) {
      const q = queries.find((x) => x.Name === f.name);
      expect(q.QueryString).toBe(readFileSync(f.path, 'utf8'));
      expect(q.Database).toEqual({ Ref: 'GlueDatabase' });
      expect(q.WorkGroup).toEqual({ Ref: 'AthenaWorkGroup' });
    }
  });
});

describe('S3 and Firehose', () => {
  test.each(['DataBucket', 'ResultsBucket'])('%s: encrypted, public access blocked, non-TLS requests denied', (bucket) => {
    const p = res(bucket).Properties;
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    const policies = ofType('AWS::S3::BucketPolicy').filter(([, r]) => r.Properties.Bucket?.Ref === bucket);
    const deny = policies.flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[])
      .find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(deny).toBeDefined();
    expect(deny.Action).toBe('s3:*');
    expect(JSON.stringify(deny.Resource)).toContain(`${bucket}.Arn}/*`);
  });

  test('data bucket lifecycle: transition and expiry from params', () => {
    const rule = (res('DataBucket').Properties.LifecycleConfiguration.Rules as Json[]).find((r) => r.Id === 'raw-data');
    expect(rule).toMatchObject({ Status: 'Enabled', ExpirationInDays: 35, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] });
  });

  test.each([
    ['EventsDeliveryStream', 'events'],
    ['RejectsDeliveryStream', 'rejects'],
  ])('%s writes %s/dt=.../hour=.../ gzip into the data bucket, logs to CloudWatch, encrypted', (id, prefix) => {
    const p = res(id).Properties;
    const s3 = p.ExtendedS3DestinationConfiguration;
    expect(s3.Prefix).toBe(`${prefix}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`);
    expect(s3.ErrorOutputPrefix).toBe(`errors/${prefix}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`);
    expect(s3.CompressionFormat).toBe('GZIP');
    expect(s3.BucketARN).toEqual({ 'Fn::GetAtt': ['DataBucket', 'Arn'] });
    expect(s3.CloudWatchLoggingOptions).toMatchObject({ Enabled: true, LogGroupName: { Ref: 'FirehoseLogGroup' } });
    expect(p.DeliveryStreamEncryptionConfigurationInput.KeyType).toBe('AWS_OWNED_CMK');
  });
});

describe('API and Lambda', () => {
  test('Lambda: reserved concurrency from params, created after the salt secret it resolves', () => {
    const fn = res('IngestLambdaFunction');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(10); // params.dev
    expect(fn.DependsOn).toContain('VisitorSaltSecret');
    expect(JSON.stringify(fn.Properties.Environment.Variables.VISITOR_SALT_SECRET)).toContain('{{resolve:secretsmanager:clickstream-dev-visitor-salt}}');
    expect(fn.Properties.Architectures).toEqual(['arm64']);
  });

  test('Lambda: Node.js 22 on arm64 (Graviton), Powertools configured by environment', () => {
    const p = res('IngestLambdaFunction').Properties;
    expect(p.Runtime).toBe('nodejs22.x');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'clickstream-ingest',
      POWERTOOLS_METRICS_NAMESPACE: 'Clickstream',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      EVENTS_STREAM_NAME: 'clickstream-dev-events',
      REJECTS_STREAM_NAME: 'clickstream-dev-rejects',
      // Privacy filters reach the Lambda (docs/security.md): drop secrets in URLs, user_id hashing opt-in.
      URL_DROP_PARAMS: 'email,token,password,auth,session,sid',
      URL_DROP_QUERY: 'false',
      USER_ID_HASH: 'false',
    });
    // The stream names the Lambda writes to are the streams the template creates.
    expect(p.Environment.Variables.EVENTS_STREAM_NAME).toBe(res('EventsDeliveryStream').Properties.DeliveryStreamName);
    expect(p.Environment.Variables.REJECTS_STREAM_NAME).toBe(res('RejectsDeliveryStream').Properties.DeliveryStreamName);
    // Set only by the local stack: on AWS the SDK must use the regional endpoint.
    expect(p.Environment.Variables.FIREHOSE_ENDPOINT).toBe('');
  });

  test('Lambda timeout covers the handler\'s Firehose retry budget and ends before API Gateway\'s 30 s', () => {
    // The budget lives in handlers/ingest.ts; read it from there so a change to either side is caught.
    const src = readFileSync(join(root, 'handlers', 'ingest.ts'), 'utf8');
    const margin = /ANSWER_MARGIN_MS = ([\d_]+)/.exec(src);
    const policy = /baseMs: ([\d_]+), capMs: ([\d_]+), maxAttempts: (\d+)/.exec(src);
    if (!margin || !policy) throw new Error('handlers/ingest.ts no longer declares ANSWER_MARGIN_MS and the retry policy literally: update this test');
    const n = (x: string | undefined) => Number(String(x).replaceAll('_', ''));
    const [baseMs, capMs, maxAttempts] = [n(policy[1]), n(policy[2]), n(policy[3])];
    // Longest total backoff: a sleep before each attempt after the first, each at its cap.
    let sleeps = 0;
    for (let a = 0; a < maxAttempts - 1; a++) sleeps += backoffMs(a, { baseMs, capMs }, () => 1);
    const timeoutMs = res('IngestLambdaFunction').Properties.Timeout * 1000;
    const integrationMs = res('HttpApiIntegrationIngest').Properties.TimeoutInMillis;
    // At least as much time for the PutRecordBatch calls themselves as for the sleeps between them.
    expect(timeoutMs - n(margin[1])).toBeGreaterThanOrEqual(2 * sleeps);
    expect(integrationMs).toBeLessThanOrEqual(30_000);
    expect(timeoutMs).toBeLessThan(integrationMs);
  });

  test('HTTP API: route throttling and a CORS allowlist from params (no wildcard)', () => {
    expect(res('HttpApiStage').Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 });
    const cors = res('HttpApi').Properties.CorsConfiguration;
    expect(cors.AllowOrigins).toEqual(['https://www.example.com']);
    expect(cors.AllowMethods).toEqual(['POST']);
  });
});

describe('IAM least privilege', () => {
  // Allow statements that may name Resource "*" (the service offers nothing narrower). None today.
  const RESOURCE_STAR_EXCEPTIONS = new Set<string>([]);

  const statements = (t: Template = template): { where: string; s: Json }[] => {
    const out: { where: string; s: Json }[] = [];
    for (const [id, r] of ofType('AWS::IAM::Role', t)) {
      for (const pol of (r.Properties.Policies ?? []) as Json[]) {
        for (const s of pol.PolicyDocument.Statement as Json[]) out.push({ where: `${id}`, s });
      }
    }
    for (const [id, r] of [...ofType('AWS::IAM::Policy', t), ...ofType('AWS::IAM::ManagedPolicy', t)]) {
      for (const s of r.Properties.PolicyDocument.Statement as Json[]) out.push({ where: id, s });
    }
    return out;
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  const variants = [['default', () => template], ['parquet', () => parquet]] as const;

  test('roles exist and carry statements', () => {
    expect(statements().length).toBeGreaterThanOrEqual(4);
  });

  test.each(variants)('every Allow statement names specific actions and resources (%s)', (_, t) => {
    const problems: string[] = [];
    for (const { where, s } of statements(t())) {
      if (s.Effect !== 'Allow') continue;
      if (s.NotAction || s.NotResource) problems.push(`${where}: NotAction/NotResource`);
      for (const a of list(s.Action)) if (typeof a !== 'string' || a.includes('*')) problems.push(`${where}: action ${JSON.stringify(a)}`);
      for (const rsc of list(s.Resource)) {
        if (rsc === undefined || (rsc === '*' && !list(s.Action).every((a) => RESOURCE_STAR_EXCEPTIONS.has(String(a))))) problems.push(`${where}: resource ${JSON.stringify(rsc)} for ${JSON.stringify(s.Action)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('the ingest Lambda may only put records into the two delivery streams', () => {
    const firehose = statements().filter(({ where, s }) => where === 'IamRoleLambdaExecution' && list(s.Action).some((a) => String(a).startsWith('firehose:')));
    expect(firehose).toHaveLength(1);
    expect([...list(firehose[0]?.s.Action)].sort()).toEqual(['firehose:PutRecord', 'firehose:PutRecordBatch']);
    expect(firehose[0]?.s.Resource).toEqual([{ 'Fn::GetAtt': ['EventsDeliveryStream', 'Arn'] }, { 'Fn::GetAtt': ['RejectsDeliveryStream', 'Arn'] }]);
  });
});

describe('alarms and outputs', () => {
  // As packaged: the SNS wiring is a condition, evaluated away in the effective template.
  const alarms = () => Object.values(raw.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);

  test.each([
    ['AWS/Lambda', 'Errors', 'GreaterThanThreshold'],
    ['AWS/Lambda', 'Throttles', 'GreaterThanThreshold'],
    ['AWS/Firehose', 'DeliveryToS3.Success', 'LessThanThreshold'],
    ['AWS/Firehose', 'DeliveryToS3.DataFreshness', 'GreaterThanThreshold'],
    ['AWS/ApiGateway', '5xx', 'GreaterThanThreshold'],
  ])('alarm on %s %s', (ns, metric, op) => {
    const a = alarms().find((x) => x.Namespace === ns && x.MetricName === metric);
    expect(a).toBeDefined();
    expect(a.ComparisonOperator).toBe(op);
    // Notifications go to the optional SNS topic only when an alarm e-mail is configured.
    expect(a.AlarmActions).toEqual({ 'Fn::If': ['HasAlarmEmail', [{ Ref: 'AlarmTopic' }], { Ref: 'AWS::NoValue' }] });
  });

  test('Firehose success alarm fires below 1', () => {
    const a = alarms().find((x) => x.MetricName === 'DeliveryToS3.Success');
    expect(a.Threshold).toBe(1);
  });

  test('each alarm watches the resource this stack created (both streams for delivery success)', () => {
    const watched = (metric: string) => alarms().filter((x) => x.MetricName === metric).map((x) => x.Dimensions.map((d: Json) => d.Value));
    expect(watched('Errors')).toEqual([[{ Ref: 'IngestLambdaFunction' }]]);
    expect(watched('Throttles')).toEqual([[{ Ref: 'IngestLambdaFunction' }]]);
    expect(watched('DeliveryToS3.Success')).toEqual(expect.arrayContaining([[{ Ref: 'EventsDeliveryStream' }], [{ Ref: 'RejectsDeliveryStream' }]]));
    expect(watched('DeliveryToS3.DataFreshness')).toEqual([[{ Ref: 'EventsDeliveryStream' }]]);
    expect(watched('5xx')).toEqual([[{ Ref: 'HttpApi' }, '$default']]);
  });

  test('without an alarm e-mail no topic exists and alarms have no actions; with one, all notify it', () => {
    expect(template.Resources.AlarmTopic).toBeUndefined();
    expect(template.Resources.AlarmEmailSubscription).toBeUndefined();
    expect(ofType('AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.AlarmActions !== undefined)).toEqual([]);
    const withEmail = effectiveTemplate({ ...raw, Conditions: { ...raw.Conditions, HasAlarmEmail: { 'Fn::Equals': ['x', 'x'] } } });
    expect(withEmail.Resources.AlarmEmailSubscription.Properties).toMatchObject({ Protocol: 'email', TopicArn: { Ref: 'AlarmTopic' } });
    expect(withEmail.Resources.AlarmTopic.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    const alarmsWith = ofType('AWS::CloudWatch::Alarm', withEmail as Template);
    expect(alarmsWith.length).toBeGreaterThanOrEqual(6);
    for (const [, a] of alarmsWith) expect(a.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  test('SNS topic is conditional on an alarm e-mail', () => {
    expect(raw.Resources.AlarmTopic.Condition).toBe('HasAlarmEmail');
    expect(raw.Resources.AlarmEmailSubscription.Condition).toBe('HasAlarmEmail');
    expect(template.Conditions?.HasAlarmEmail).toBeDefined();
  });

  test('outputs: API URL, bucket names, workgroup, Glue database', () => {
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['HttpApiUrl', 'ApiEndpoint', 'SdkSnippet', 'DataBucketName', 'ResultsBucketName', 'AthenaWorkGroupName', 'GlueDatabaseName']));
    expect(template.Outputs.DataBucketName.Value).toEqual({ Ref: 'DataBucket' });
    expect(template.Outputs.GlueDatabaseName.Value).toEqual({ Ref: 'GlueDatabase' });
  });
});

describe('Firehose streams and the local stand-in', () => {
  const streams = (t: Template) => ofType('AWS::KinesisFirehose::DeliveryStream', t).map(([, r]) => {
    const s3 = r.Properties.ExtendedS3DestinationConfiguration;
    return {
      name: r.Properties.DeliveryStreamName, intervalSeconds: s3.BufferingHints.IntervalInSeconds, sizeMB: s3.BufferingHints.SizeInMBs,
      gzip: s3.CompressionFormat === 'GZIP', prefix: s3.Prefix, errorOutputPrefix: s3.ErrorOutputPrefix,
    };
  }).sort((a, b) => a.name.localeCompare(b.name));

  test.each(['EventsDeliveryStream', 'RejectsDeliveryStream'])('%s: Direct PUT, 60 s / 64 MB buffers, its own CloudWatch log stream', (id) => {
    const p = res(id).Properties;
    expect(p.DeliveryStreamType).toBe('DirectPut');
    expect(p.ExtendedS3DestinationConfiguration.BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
    const logs = p.ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions;
    expect(res(logs.LogStreamName.Ref).Properties.LogGroupName).toEqual({ Ref: 'FirehoseLogGroup' });
  });

  test('the local stand-in reads the same streams as deployed by default: names, buffering, gzip, prefixes', () => {
    const local = readStreams('dev').sort((a, b) => a.name.localeCompare(b.name));
    expect(local).toEqual(streams(template));
  });

  test.each([
    ['events', 'EventsTable'],
    ['rejects', 'RejectsTable'],
  ])('an object the stand-in writes to %s/ lies in the partition %s projects for its arrival hour', (prefix, table) => {
    const stream = readStreams('dev').find((s) => s.prefix.startsWith(`${prefix}/`));
    if (!stream) throw new Error(`no ${prefix} stream in serverless.yml`);
    const key = objectKey({ prefix: stream.prefix, stream: stream.name, at: new Date('2026-11-22T07:05:09Z'), gzip: stream.gzip });
    const parts = res(table).Properties.TableInput.Parameters['storage.location.template']['Fn::Join'][1] as Json[];
    const location = parts.map((x) => (typeof x === 'string' ? x : 'BUCKET')).join('').replace('${dt}', '2026-11-22').replace('${hour}', '07');
    expect(`s3://BUCKET/${key}`.startsWith(location)).toBe(true);
    // Directly in the partition folder, not below it: Athena reads only that folder's objects.
    expect(`s3://BUCKET/${key}`.slice(location.length)).not.toContain('/');
  });
});

describe('Parquet output (--param dataFormat=parquet)', () => {
  const s3 = (t: Template) => t.Resources.EventsDeliveryStream.Properties.ExtendedS3DestinationConfiguration;
  const sd = (t: Template, id = 'EventsTable') => t.Resources[id].Properties.TableInput.StorageDescriptor;
  const glueStatements = (t: Template) => (t.Resources.FirehoseRole.Properties.Policies as Json[])
    .flatMap((p) => p.PolicyDocument.Statement as Json[]).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('glue:')));

  test('default: gzip NDJSON, no conversion, JSON table, no Glue permission for Firehose', () => {
    expect(s3(template).CompressionFormat).toBe('GZIP');
    expect(s3(template).DataFormatConversionConfiguration).toBeUndefined();
    expect(sd(template).SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(sd(template).InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
    expect(template.Resources.EventsTable.Properties.TableInput.Parameters.classification).toBe('json');
    expect(glueStatements(template)).toEqual([]);
  });

  test('parquet: OpenX JSON in, Parquet (Snappy) out, schema read from the events table', () => {
    const c = s3(parquet).DataFormatConversionConfiguration;
    expect(c.Enabled).toBe(true);
    expect(c.InputFormatConfiguration.Deserializer).toEqual({ OpenXJsonSerDe: {} });
    expect(c.OutputFormatConfiguration.Serializer).toEqual({ ParquetSerDe: { Compression: 'SNAPPY' } });
    expect(c.SchemaConfiguration).toEqual({
      CatalogId: { Ref: 'AWS::AccountId' }, DatabaseName: { Ref: 'GlueDatabase' }, TableName: { Ref: 'EventsTable' },
      Region: { Ref: 'AWS::Region' }, RoleARN: { 'Fn::GetAtt': ['FirehoseRole', 'Arn'] }, VersionId: 'LATEST',
    });
  });

  test('parquet: the stream is UNCOMPRESSED (the SerDe compresses) and buffers at least 64 MB (Firehose minimum)', () => {
    expect(s3(parquet).CompressionFormat).toBe('UNCOMPRESSED');
    expect(s3(parquet).BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
    expect(s3(parquet).BufferingHints.IntervalInSeconds).toBe(60);
  });

  test('parquet: the events table reads Parquet with the same columns; rejects stay JSON', () => {
    expect(sd(parquet).SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(sd(parquet).InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
    expect(sd(parquet).OutputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');
    expect(parquet.Resources.EventsTable.Properties.TableInput.Parameters.classification).toBe('parquet');
    expect(sd(parquet).Columns).toEqual(sd(template).Columns);
    expect(parquet.Resources.RejectsTable).toEqual(template.Resources.RejectsTable);
    expect(parquet.Resources.RejectsDeliveryStream).toEqual(template.Resources.RejectsDeliveryStream);
  });

  test('parquet: Firehose may read the schema of exactly the events table', () => {
    const st = glueStatements(parquet);
    expect(st).toHaveLength(1);
    expect(st[0].Effect).toBe('Allow');
    expect([...st[0].Action].sort()).toEqual(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']);
    const arn = 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:';
    expect(st[0].Resource).toEqual([
      { 'Fn::Sub': `${arn}catalog` },
      { 'Fn::Sub': `${arn}database/\${GlueDatabase}` },
      { 'Fn::Sub': `${arn}table/\${GlueDatabase}/\${EventsTable}` },
    ]);
  });

  test('parquet: an alarm on records that failed conversion (they miss the table while delivery succeeds)', () => {
    const a = parquet.Resources.EventsConversionFailedAlarm?.Properties;
    expect(a).toMatchObject({
      Namespace: 'AWS/Firehose', MetricName: 'FailedConversion.Records', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: { Ref: 'EventsDeliveryStream' } }],
    });
  });

  test('the variants differ only by that alarm: same resources otherwise, same outputs', () => {
    const ids = (t: Template) => Object.keys(t.Resources).filter((k) => !k.startsWith('IngestLambdaVersion')).sort();
    expect(ids(parquet).filter((k) => !ids(template).includes(k))).toEqual(['EventsConversionFailedAlarm']);
    expect(ids(template).filter((k) => !ids(parquet).includes(k))).toEqual([]);
    expect(Object.keys(parquet.Outputs).sort()).toEqual(Object.keys(template.Outputs).sort());
  });
});

describe('SDK outputs', () => {
  test('ApiEndpoint: the HTTP API endpoint + /v1/events', () => {
    expect(template.Outputs.ApiEndpoint.Value).toEqual({ 'Fn::Sub': '${HttpApi.ApiEndpoint}/v1/events' });
  });

  test('SdkSnippet: the README loader snippet with the endpoint and the first site id filled in', () => {
    const sub = template.Outputs.SdkSnippet.Value['Fn::Sub'] as string;
    // The only deploy-time variable is the endpoint: anything else in ${} would be a broken Sub.
    expect(sub.match(/\$\{[^}]*\}/g)).toEqual(['${HttpApi.ApiEndpoint}']);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Add to your site[\s\S]*?```html\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!block) throw new Error('README.md "Add to your site" has no html block');
    const asReadme = sub
      .replace('${HttpApi.ApiEndpoint}', 'https://YOUR-API-ID.execute-api.YOUR-REGION.amazonaws.com')
      .replace('siteId: "demo"', 'siteId: "YOUR-SITE-ID"');
    expect(asReadme).toBe(block.trimEnd());
  });

  test('SdkSnippet runs: it loads the SDK from sdkUrl and queues init with the endpoint and site', () => {
    const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
    const js = (template.Outputs.SdkSnippet.Value['Fn::Sub'] as string).replace('${HttpApi.ApiEndpoint}', endpoint).replace(/<\/?script>/g, '');
    const appended: Json[] = [];
    const ctx: Json = { document: { createElement: (tag: string) => ({ tag }), head: { appendChild: (el: Json) => appended.push(el) } } };
    ctx.window = ctx;
    runInNewContext(js, ctx);
    expect(appended).toEqual([{ tag: 'script', async: true, src: 'https://YOUR-CDN/clickstream.min.js' }]);
    expect(ctx.clickstream.q.map((args: Json) => Array.from(args))).toEqual([['init', { endpoint: `${endpoint}/v1/events`, siteId: 'demo' }]]);
  });
});

describe('package-time guards (scripts/)', () => {
  interface Resolver { (ctx: { resolveVariable: (v: string) => Promise<unknown> }): Promise<string> }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain-JS serverless helpers
  const cfn = require('../../scripts/cfn-athena.js') as { dataFormat: Resolver; firstSiteIdOf: (sites: unknown, pattern: string) => string };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { applyOverrides } = require('../../scripts/cfn-overrides.js') as { applyOverrides: (r: Json, o: Json) => void };
  const params = (values: Record<string, unknown>) => ({ resolveVariable: async (v: string) => values[v.replace(/^param:/, '')] });

  test('dataFormat: json and parquet pass, a typo fails the package instead of deploying JSON', async () => {
    await expect(cfn.dataFormat(params({ dataFormat: 'json' }))).resolves.toBe('json');
    await expect(cfn.dataFormat(params({ dataFormat: 'parquet' }))).resolves.toBe('parquet');
    await expect(cfn.dataFormat(params({ dataFormat: 'parqet' }))).rejects.toThrow(/json, parquet/);
  });

  test('firstSiteId: the first site of the sites param; ids outside the wire contract fail', () => {
    const pattern = batchSchema.properties.site_id.pattern;
    expect(cfn.firstSiteIdOf('{"shop":{"origins":[]},"blog":{}}', pattern)).toBe('shop');
    expect(() => cfn.firstSiteIdOf('{"shop":{},"Blog\\"x":{}}', pattern)).toThrow(/do not match/);
    expect(() => cfn.firstSiteIdOf('{}', pattern)).toThrow(/at least one site/);
    expect(() => cfn.firstSiteIdOf('{not json', pattern)).toThrow(/not valid JSON/);
  });

  test('cfnOverrides: sets an existing nested value and keeps its siblings; a missing path fails', () => {
    const resources = { S: { Properties: { C: { A: 1, B: 2 } } } };
    applyOverrides(resources, { 'S.Properties.C.A': { 'Fn::If': ['X', 3, 1] } });
    expect(resources.S.Properties.C).toEqual({ A: { 'Fn::If': ['X', 3, 1] }, B: 2 });
    expect(() => applyOverrides(resources, { 'T.Properties.C.A': 1 })).toThrow(/T not found/);
    expect(() => applyOverrides(resources, { 'S.Properties.C.Z': 1 })).toThrow(/Z not set/);
  });
});
