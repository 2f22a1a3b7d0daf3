/**
 * The deployable template, proven offline: `osls package --stage dev` once, then assertions on the
 * CloudFormation JSON it writes. INFRA_TEMPLATE=path skips packaging and checks that file instead
 * (used to confirm these tests fail on a template with a resource or guard removed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EVENT_COLUMNS, PARTITION_COLUMNS, REJECT_COLUMNS } from '../../schema/columns';
import { loadSpec, validateTemplate } from './cfn-spec';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped
type Json = any;
interface Template { Resources: Record<string, Json>; Outputs: Record<string, Json>; Conditions?: Record<string, Json> }

const root = join(__dirname, '..', '..');
let template: Template;
let tmp: string | undefined;

beforeAll(() => {
  if (process.env.INFRA_TEMPLATE) {
    template = JSON.parse(readFileSync(process.env.INFRA_TEMPLATE, 'utf8')) as Template;
    return;
  }
  tmp = mkdtempSync(join(tmpdir(), 'clickstream-infra-'));
  const out = join(tmp, 'package');
  // v3-family CLIs write ~/.serverless and TMPDIR; the build dir keeps clear of other stacks' builds.
  const env = { ...process.env, HOME: tmp, TMPDIR: tmp, CLICKSTREAM_BUILD_DIR: join(tmp, 'build'), SLS_TELEMETRY_DISABLED: '1' };
  const r = spawnSync(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'dev', '--package', out], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`osls package failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}, 150_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ofType = (type: string): [string, Json][] => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const res = (id: string): Json => {
  const r = template.Resources[id];
  if (!r) throw new Error(`resource ${id} missing from the template`);
  return r;
};
const glueColumns = (list: readonly { name: string; type: string }[]) => list.map((c) => ({ Name: c.name, Type: c.type }));

describe('CloudFormation spec', () => {
  const spec = loadSpec();

  test('every resource type and property name exists in the CloudFormation spec', () => {
    expect(validateTemplate(template, spec)).toEqual([]);
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

  const statements = (): { where: string; s: Json }[] => {
    const out: { where: string; s: Json }[] = [];
    for (const [id, r] of ofType('AWS::IAM::Role')) {
      for (const pol of (r.Properties.Policies ?? []) as Json[]) {
        for (const s of pol.PolicyDocument.Statement as Json[]) out.push({ where: `${id}`, s });
      }
    }
    for (const [id, r] of [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]) {
      for (const s of r.Properties.PolicyDocument.Statement as Json[]) out.push({ where: id, s });
    }
    return out;
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

  test('roles exist and carry statements', () => {
    expect(statements().length).toBeGreaterThanOrEqual(4);
  });

  test('every Allow statement names specific actions and resources', () => {
    const problems: string[] = [];
    for (const { where, s } of statements()) {
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
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);

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

  test('SNS topic is conditional on an alarm e-mail', () => {
    expect(res('AlarmTopic').Condition).toBe('HasAlarmEmail');
    expect(template.Conditions?.HasAlarmEmail).toBeDefined();
  });

  test('outputs: API URL, bucket names, workgroup, Glue database', () => {
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['HttpApiUrl', 'DataBucketName', 'ResultsBucketName', 'AthenaWorkGroupName', 'GlueDatabaseName']));
    expect(template.Outputs.DataBucketName.Value).toEqual({ Ref: 'DataBucket' });
    expect(template.Outputs.GlueDatabaseName.Value).toEqual({ Ref: 'GlueDatabase' });
  });
});
