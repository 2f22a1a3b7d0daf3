/**
 * The deployable template, proven offline: `osls package --stage dev` three times (the default,
 * `--param dataFormat=parquet`, and non-default capacity params in another region), then assertions
 * on the CloudFormation JSON they write.
 * Most tests read the effective template (conditions evaluated: test/infra/effective.ts), so values
 * inside `Fn::If` branches are checked too. INFRA_TEMPLATE=path (and INFRA_TEMPLATE_PARQUET=path,
 * INFRA_TEMPLATE_PARAMS=path) skip packaging and check those files instead (used to confirm these
 * tests fail on a template with a resource or guard removed).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { EVENT_COLUMNS, PARTITION_COLUMNS, REJECT_COLUMNS } from '../../schema/columns';
import { batchSchema } from '../../schema/event';
import { ANSWER_MARGIN_MS, backoffMs, INGEST_RETRY } from '../../handlers/lib/deliver';
import { packLines } from '../../handlers/lib/pack';
import { processRequest } from '../../handlers/lib/pipeline';
import { benchConfig, makeRequests } from '../../bench/fixtures';
import { objectKey } from '../../local/firehose/layout';
import { readStreams } from '../../local/serverless-config';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { loadSpec, validateGetAtts, validateTemplate } from './cfn-spec';
import { effectiveTemplate, type CfnTemplate } from './effective';
import { withPackageLock } from './package-lock';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped; the tests read it by path.
type Json = any;
interface Template extends CfnTemplate {
  Outputs: Record<string, Json>;
}

const root = join(__dirname, '..', '..');
const quota = require('../../scripts/cfn-params.js') as {
  REQUEST_SHAPE: { eventsPerRequest: number; bytesPerEvent: number; recordsPerRequest: number };
  firehoseQuota: (region: string, mibPerSecond?: number) => { mibPerSecond: number; requestsPerSecond: number; recordsPerSecond: number };
  throttleOf: (p: { region: string; throttleRate?: unknown; throttleBurst?: unknown; firehoseMiBps?: unknown }) => {
    rate: number;
    burst: number;
  };
  reservedConcurrencyOf: (raw: unknown) => number | '';
};
/** As packaged with the default params (conditions unevaluated). */
let raw: Template;
/** The dataFormat=parquet variant as packaged. */
let rawParquet: Template;
/** Effective templates: what CloudFormation creates with the default params and with dataFormat=parquet. */
let template: Template;
let parquet: Template;
/** Effective template of PARAMS_VARIANT: a reservation, an alarm e-mail, a region with the 1 MiB/s Firehose quota. */
let withParams: Template;
/** Effective templates of the edge variants: turned off, and with a custom domain and a WAF rate limit (us-east-1). */
let noEdge: Template;
let edgeDomainWaf: Template;
// An existing web ACL (created in us-east-1) attached from another region: the way out the WAF guard names.
const WEB_ACL_ARN = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/clickstream-edge/0a1b2c3d-1111-2222-3333-444455556666';
const PARAMS_VARIANT = [
  '--region',
  'eu-central-1',
  '--param',
  'reservedConcurrency=20',
  '--param',
  'alarmEmail=ops@example.com',
  '--param',
  `edgeWebAclArn=${WEB_ACL_ARN}`,
];
const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff';
const EDGE_VARIANT = [
  '--param',
  'edgeDomain=t.example.com',
  '--param',
  `edgeCertificateArn=${CERT_ARN}`,
  '--param',
  'edgeWafRateLimit=2000',
  '--param',
  'cloudFrontOriginSecret=s3cr3t-0f-the-edge',
];
let tmp: string | undefined;

async function osPackage(dir: string, name: string, extra: string[]): Promise<Template> {
  const out = join(dir, name);
  // v3-family CLIs write ~/.serverless and TMPDIR; the build dir keeps clear of other stacks' builds.
  const env = { ...process.env, HOME: dir, TMPDIR: dir, CLICKSTREAM_BUILD_DIR: join(dir, `build-${name}`), SLS_TELEMETRY_DISABLED: '1' };
  try {
    await withPackageLock(() =>
      promisify(execFile)(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'dev', '--package', out, ...extra], {
        cwd: root,
        env,
        timeout: 120_000,
        maxBuffer: 16 << 20,
      }),
    );
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
    rawParquet = p;
    template = effectiveTemplate(raw);
    parquet = effectiveTemplate(p);
    withParams = effectiveTemplate(process.env.INFRA_TEMPLATE_PARAMS ? read(process.env.INFRA_TEMPLATE_PARAMS) : raw);
    noEdge = effectiveTemplate(process.env.INFRA_TEMPLATE_NOEDGE ? read(process.env.INFRA_TEMPLATE_NOEDGE) : raw);
    edgeDomainWaf = effectiveTemplate(process.env.INFRA_TEMPLATE_EDGE ? read(process.env.INFRA_TEMPLATE_EDGE) : raw);
    return;
  }
  tmp = mkdtempSync(join(tmpdir(), 'clickstream-infra-'));
  // One after the other (and never beside another worker's package: osPackage takes
  // package-lock.ts's lock): osls always writes <service>/.serverless/serverless-state.json and
  // serverless-esbuild copies through <service>/.serverless, so parallel runs in one checkout race.
  const json = await osPackage(tmp, 'json', []);
  const pq = await osPackage(tmp, 'parquet', ['--param', 'dataFormat=parquet']);
  const params = await osPackage(tmp, 'params', PARAMS_VARIANT);
  noEdge = effectiveTemplate(await osPackage(tmp, 'noedge', ['--param', 'edge=false']));
  edgeDomainWaf = effectiveTemplate(await osPackage(tmp, 'edge', EDGE_VARIANT));
  raw = json;
  rawParquet = pq;
  template = effectiveTemplate(json);
  parquet = effectiveTemplate(pq);
  withParams = effectiveTemplate(params);
}, 320_000);

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
    expect(validateTemplate(withParams, spec)).toEqual([]);
    expect(validateTemplate(noEdge, spec)).toEqual([]);
    expect(validateTemplate(edgeDomainWaf, spec)).toEqual([]);
  });

  test('every Fn::GetAtt and ${Resource.Attribute} names an attribute its resource type returns (every variant)', () => {
    for (const t of [raw, template, parquet, withParams, noEdge, edgeDomainWaf]) expect(validateGetAtts(t, spec)).toEqual([]);
    const bad = JSON.parse(JSON.stringify(template)) as Template;
    bad.Resources.EdgeDistribution.Properties.DistributionConfig.Origins[0].OriginAccessControlId = {
      'Fn::GetAtt': ['EdgeOriginAccessControl', 'OacId'],
    };
    bad.Outputs.EdgeDomainName.Value = { 'Fn::Sub': 'https://${EdgeDistribution.Domain}' };
    expect(validateGetAtts(bad, spec)).toEqual([
      'EdgeDistribution.Properties.DistributionConfig.Origins[0].OriginAccessControlId: AWS::CloudFront::OriginAccessControl has no attribute OacId',
      'Outputs.EdgeDomainName.Value: AWS::CloudFront::Distribution has no attribute Domain',
    ]);
  });

  test('the spec check catches a misspelled nested property and an unknown top-level one', () => {
    const bad = JSON.parse(JSON.stringify(template)) as Template;
    bad.Resources.AthenaWorkGroup.Properties.WorkGroupConfiguration.BytesScanedCutoffPerQuery = 1;
    bad.Resources.DataBucket.Properties.BucketEncription = {};
    const errors = validateTemplate(bad, spec);
    expect(errors).toEqual(
      expect.arrayContaining([
        'AthenaWorkGroup.WorkGroupConfiguration.BytesScanedCutoffPerQuery: unknown property',
        'DataBucket.BucketEncription: unknown property',
      ]),
    );
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
      ...readdirSync(join(dir, 'views'))
        .filter((f) => f.endsWith('.sql'))
        .map((f) => ({ name: `create_view_${basename(f, '.sql')}`, path: join(dir, 'views', f) })),
      ...readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .map((f) => ({ name: basename(f, '.sql'), path: join(dir, f) })),
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

describe('Athena views, re-created by the deploy (Custom::AthenaViews)', () => {
  interface View {
    Name: string;
    Sql: string;
  }
  const cfn = require('../../scripts/cfn-athena.js') as {
    viewStatements: (dir?: string) => View[];
    viewsFingerprint: (resources: Json, conditions: Json, views: View[]) => string;
  };
  const views = () => res('AthenaViews').Properties.Views as View[];

  test("one custom resource runs every athena-queries/views/*.sql, in the stage's database and workgroup, after the tables and the workgroup exist", () => {
    const r = res('AthenaViews');
    expect(r.Type).toBe('Custom::AthenaViews');
    expect(r.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['AthenaViewsLambdaFunction', 'Arn'] });
    expect(r.Properties.Database).toEqual({ Ref: 'GlueDatabase' });
    expect(r.Properties.WorkGroup).toEqual({ Ref: 'AthenaWorkGroup' });
    expect(r.DependsOn).toEqual(expect.arrayContaining(['EventsTable', 'RejectsTable', 'AthenaWorkGroup']));
    const files = readdirSync(join(root, 'athena-queries', 'views')).filter((f) => f.endsWith('.sql'));
    expect(
      views()
        .map((v) => v.Name)
        .sort(),
    ).toEqual(files.map((f) => basename(f, '.sql')).sort());
    for (const v of views()) {
      const file = readFileSync(join(root, 'athena-queries', 'views', `${v.Name}.sql`), 'utf8');
      // The file's statement, without its comments: what the local DuckDB runs too.
      expect(v.Sql).toBe(
        file
          .split('\n')
          .filter((l) => !/^\s*--/.test(l))
          .join('\n')
          .trim()
          .replace(/;\s*$/, ''),
      );
      expect(v.Sql).toMatch(new RegExp(`^CREATE OR REPLACE VIEW ${v.Name} AS\\s`, 'i'));
    }
  });

  test('Fingerprint covers the view SQL and every Glue table as deployed: it changes with a column, a SerDe or the SQL, and with nothing else', () => {
    const fp = res('AthenaViews').Properties.Fingerprint;
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    // Recomputed from the template CloudFormation receives: the plugin hashed exactly that.
    expect(cfn.viewsFingerprint(raw.Resources, raw.Conditions, views())).toBe(fp);
    // dataFormat=parquet switches the events table's SerDe (a table change): the views re-run.
    expect(rawParquet.Resources.AthenaViews.Properties.Fingerprint).not.toBe(fp);
    const clone = (): Json => JSON.parse(JSON.stringify(raw.Resources));
    const column = clone();
    column.EventsTable.Properties.TableInput.StorageDescriptor.Columns.push({ Name: 'new_field', Type: 'string' });
    expect(cfn.viewsFingerprint(column, raw.Conditions, views())).not.toBe(fp);
    const rejects = clone();
    rejects.RejectsTable.Properties.TableInput.StorageDescriptor.Columns.pop();
    expect(cfn.viewsFingerprint(rejects, raw.Conditions, views())).not.toBe(fp);
    expect(
      cfn.viewsFingerprint(
        raw.Resources,
        raw.Conditions,
        views().map((v) => ({ ...v, Sql: `${v.Sql} AND 1 = 1` })),
      ),
    ).not.toBe(fp);
    const unrelated = clone();
    unrelated.IngestErrorsAlarm.Properties.Threshold = 3;
    unrelated.IngestLambdaFunction.Properties.MemorySize = 1024;
    expect(cfn.viewsFingerprint(unrelated, { ...raw.Conditions, HasAlarmEmail: { 'Fn::Equals': ['a', 'a'] } }, views())).toBe(fp);
  });

  test('its function: own bundle and role, answers before CloudFormation gives up on it, no ingest settings', () => {
    const fn = res('AthenaViewsLambdaFunction').Properties;
    expect(fn.Handler).toBe('handlers/athena-views.handler');
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['AthenaViewsRole', 'Arn'] });
    expect(fn.Runtime).toBe('nodejs22.x');
    // The handler answers 8 s before the Lambda timeout; CloudFormation waits ServiceTimeout (<= 3,600 s).
    const serviceTimeout = res('AthenaViews').Properties.ServiceTimeout;
    expect(fn.Timeout).toBeGreaterThan(8);
    expect(serviceTimeout).toBeGreaterThan(fn.Timeout);
    expect(serviceTimeout).toBeLessThanOrEqual(3600);
    // No salt secret (nor any ingest variable) in the views function; the secret stays with ingest.
    expect(JSON.stringify(fn.Environment ?? {})).not.toContain('secretsmanager');
    expect(res('IngestLambdaFunction').Properties.Environment.Variables.VISITOR_SALT_SECRET).toBeDefined();
    // package.individually: each function ships its own zip (the ingest bundle does not grow).
    const key = (id: string) => res(id).Properties.Code.S3Key as string;
    expect(key('IngestLambdaFunction')).toMatch(/\/ingest\.zip$/);
    expect(key('AthenaViewsLambdaFunction')).toMatch(/\/athenaViews\.zip$/);
    if (tmp) for (const zip of ['ingest.zip', 'athenaViews.zip']) expect(existsSync(join(tmp, 'json', zip))).toBe(true);
  });

  test("its role: Athena in this workgroup, Glue writes on the views (and creates the compaction's tables), the results bucket; nothing of ingest (and ingest nothing of it)", () => {
    const st = (res('AthenaViewsRole').Properties.Policies as Json[]).flatMap((p) => p.PolicyDocument.Statement as Json[]);
    const actions = st.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => !/^(athena|glue|s3|logs):/.test(a))).toEqual([]);
    const athena = st.find((s) => [s.Action].flat().includes('athena:StartQueryExecution'));
    expect([...athena.Action].sort()).toEqual(['athena:GetQueryExecution', 'athena:StartQueryExecution', 'athena:StopQueryExecution']);
    expect(athena.Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AthenaWorkGroup}',
    });
    const writes = st.filter((s) => [s.Action].flat().some((a: string) => /^glue:(Create|Update|Delete)Table$/.test(a)));
    expect(writes).toHaveLength(2);
    expect(writes[0].Resource).toEqual(
      views().map((v) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:table/\${GlueDatabase}/${v.Name}`,
      })),
    );
    // And the compaction's Iceberg tables: created (IF NOT EXISTS) before the views, never changed or dropped here.
    expect(writes[1].Action).toEqual(['glue:CreateTable']);
    expect(JSON.stringify(writes[1].Resource)).toContain('events_compacted');
    const s3 = st.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(JSON.stringify(s3.map((s) => s.Resource))).not.toContain('DataBucket');
    const ingest = JSON.stringify(res('IamRoleLambdaExecution').Properties.Policies);
    expect(ingest).not.toMatch(/"(athena|glue):/);
  });

  test('the view SQL is checked at package time: a file that is not CREATE OR REPLACE VIEW <its name> fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-views-'));
    try {
      const one = (name: string, sql: string) => {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        writeFileSync(join(dir, name), sql);
        return () => cfn.viewStatements(dir);
      };
      expect(one('v1.sql', '-- comment\nCREATE OR REPLACE VIEW v1 AS\nSELECT 1;\n')()).toEqual([
        { Name: 'v1', Sql: 'CREATE OR REPLACE VIEW v1 AS\nSELECT 1' },
      ]);
      expect(one('v1.sql', 'CREATE VIEW v1 AS SELECT 1')).toThrow(/CREATE OR REPLACE VIEW/);
      expect(one('v1.sql', 'CREATE OR REPLACE VIEW v2 AS SELECT 1')).toThrow(/name the file v2\.sql/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no manual view step left in the README\'s "Deploy to AWS" or the Deploy runbook', () => {
    const section = (file: string, heading: string) => {
      const text = readFileSync(join(root, file), 'utf8');
      const m = new RegExp(`## ${heading}\\n([\\s\\S]*?)(\\n## |$)`).exec(text);
      if (!m) throw new Error(`${file} has no "${heading}" section`);
      return m[1] as string;
    };
    for (const [file, heading] of [
      ['README.md', 'Deploy to AWS'],
      ['docs/operations.md', 'Deploy'],
    ] as const) {
      const text = section(file, heading);
      expect(text).not.toMatch(/run the saved query|Once after the first deploy: run/i);
      expect(text).toMatch(/Custom::AthenaViews|re-creates? the `?events_dedup`? view/);
    }
  });
});

describe('S3 and Firehose', () => {
  test.each(['DataBucket', 'ResultsBucket', 'SdkBucket'])('%s: encrypted, public access blocked, non-TLS requests denied', (bucket) => {
    const p = res(bucket).Properties;
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policies = ofType('AWS::S3::BucketPolicy').filter(([, r]) => r.Properties.Bucket?.Ref === bucket);
    const deny = policies
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[])
      .find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(deny).toBeDefined();
    expect(deny.Action).toBe('s3:*');
    expect(JSON.stringify(deny.Resource)).toContain(`${bucket}.Arn}/*`);
  });

  test("the framework's deployment bucket has full Block Public Access too", () => {
    expect(res('ServerlessDeploymentBucket').Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  test('data bucket lifecycle: transition and expiry from params', () => {
    const rule = (res('DataBucket').Properties.LifecycleConfiguration.Rules as Json[]).find((r) => r.Id === 'raw-data');
    expect(rule).toMatchObject({
      Status: 'Enabled',
      ExpirationInDays: 35,
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
    });
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
  test('Lambda: no reserved concurrency by default (accounts with a 10-execution quota can deploy), the param when set', () => {
    // PutFunctionConcurrency must leave 100 unreserved: any reservation fails on a new account.
    expect(res('IngestLambdaFunction').Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(withParams.Resources.IngestLambdaFunction.Properties.ReservedConcurrentExecutions).toBe(20);
  });

  test('Lambda: created after the salt secret it resolves', () => {
    const fn = res('IngestLambdaFunction');
    expect(fn.DependsOn).toContain('VisitorSaltSecret');
    expect(JSON.stringify(fn.Properties.Environment.Variables.VISITOR_SALT_SECRET)).toContain(
      '{{resolve:secretsmanager:clickstream-dev-visitor-salt}}',
    );
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

  test('Lambda memory: 256 MB for ingest, the cheapest size docs/cost.md found at our duration', () => {
    expect(res('IngestLambdaFunction').Properties.MemorySize).toBe(256);
  });

  test("Lambda logging: JSON, Lambda's own lines only from WARN (no START/END/REPORT per invocation), and an application level that keeps the EMF metrics and the errors", () => {
    const config = res('IngestLambdaFunction').Properties.LoggingConfig;
    expect(config).toEqual({ LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' });
    // Lambda sends an application line on when its level is at least ApplicationLogLevel, and reads
    // a line without a "level" key as INFO (Lambda developer guide, "Log-level filtering").
    const order = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
    const kept = (line: Record<string, unknown>) =>
      order.indexOf(typeof line.level === 'string' && order.includes(line.level.toUpperCase()) ? line.level.toUpperCase() : 'INFO') >=
      order.indexOf(config.ApplicationLogLevel);
    // The EMF line the DeliveryFailed alarm depends on has no level of its own.
    const metrics = new Metrics({ namespace: 'Clickstream', serviceName: 'clickstream-ingest' });
    metrics.addMetric('DeliveryFailed', MetricUnit.Count, 1);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).not.toHaveProperty('level');
    expect(kept(emf)).toBe(true);
    // The handler's errors, as Powertools' Logger writes them (its own console, straight to the streams).
    const written: string[] = [];
    const capture = (s: NodeJS.WriteStream) =>
      jest.spyOn(s, 'write').mockImplementation((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      });
    const spies = [capture(process.stdout), capture(process.stderr)];
    try {
      new Logger({ serviceName: 'clickstream-ingest' }).error('events could not be delivered', { failed: 1 });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const line = JSON.parse(written.join('').trim()) as Record<string, unknown>;
    expect(line.level).toBe('ERROR');
    expect(kept(line)).toBe(true);
  });

  test("Lambda timeout covers the handler's Firehose retry budget and ends before API Gateway's 30 s", () => {
    // The policy handlers/ingest.ts uses, imported from where it is defined.
    const { baseMs, capMs, maxAttempts } = INGEST_RETRY;
    // Longest total backoff: a sleep before each attempt after the first, each at its cap.
    let sleeps = 0;
    for (let a = 0; a < maxAttempts - 1; a++) sleeps += backoffMs(a, { baseMs, capMs }, () => 1);
    const timeoutMs = res('IngestLambdaFunction').Properties.Timeout * 1000;
    const integrationMs = res('HttpApiIntegrationIngest').Properties.TimeoutInMillis;
    // At least as much time for the PutRecordBatch calls themselves as for the sleeps between them.
    expect(timeoutMs - ANSWER_MARGIN_MS).toBeGreaterThanOrEqual(2 * sleeps);
    expect(integrationMs).toBeLessThanOrEqual(30_000);
    expect(timeoutMs).toBeLessThan(integrationMs);
  });

  test('HTTP API: a CORS allowlist from params (no wildcard)', () => {
    const cors = res('HttpApi').Properties.CorsConfiguration;
    expect(cors.AllowOrigins).toEqual(['https://www.example.com']);
    expect(cors.AllowMethods).toEqual(['POST']);
  });

  test("HTTP API: CORS exposes retry-after, so the SDK can read the 503/429 back-off (API Gateway drops the Lambda's own CORS headers)", () => {
    const expose = (res('HttpApi').Properties.CorsConfiguration.ExposeHeaders ?? []) as string[];
    expect(expose.map((h) => h.toLowerCase())).toContain('retry-after');
    // The header exposed is the one the handler sets on its 503.
    expect(readFileSync(join(root, 'handlers', 'ingest.ts'), 'utf8')).toMatch(/'retry-after'/);
  });

  test("HTTP API: throttle derived from the region's Firehose Direct PUT quota (5 MiB/s in us-east-1, 1 MiB/s in eu-central-1)", () => {
    const limits = (t: Template) => t.Resources.HttpApiStage.Properties.DefaultRouteSettings;
    const expected = (region: string) => {
      const { rate, burst } = quota.throttleOf({ region });
      return { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst };
    };
    expect(limits(template)).toEqual(expected('us-east-1'));
    expect(limits(withParams)).toEqual(expected('eu-central-1'));
    expect(limits(template)).toEqual({ ThrottlingRateLimit: 262, ThrottlingBurstLimit: 262 });
    expect(limits(withParams)).toEqual({ ThrottlingRateLimit: 52, ThrottlingBurstLimit: 52 });
  });

  test("HTTP API throttle x measured bytes of 20-event requests stays within the stream's Firehose quota", () => {
    // Real rows: bench fixtures through the handler's pipeline and packing, as the Lambda sends them.
    const config = benchConfig();
    const perRequest = makeRequests(200, quota.REQUEST_SHAPE.eventsPerRequest, Date.parse('2026-11-22T10:00:00Z'), 11).map((q) => {
      const r = processRequest(
        {
          body: q.body,
          contentType: 'text/plain',
          userAgent: q.userAgent,
          sourceIp: q.sourceIp,
          origin: 'https://www.example.com',
          receivedAt: new Date('2026-11-22T10:00:05Z'),
        },
        config,
      );
      expect(r.lines).toHaveLength(quota.REQUEST_SHAPE.eventsPerRequest);
      return packLines(r.lines);
    });
    // One record (one PutRecordBatch entry) per request, as the quota arithmetic assumes.
    expect(perRequest.every((records) => records.length === quota.REQUEST_SHAPE.recordsPerRequest)).toBe(true);
    const maxBytes = Math.max(...perRequest.map((records) => records[0]!.length));
    expect(maxBytes).toBeLessThanOrEqual(quota.REQUEST_SHAPE.eventsPerRequest * quota.REQUEST_SHAPE.bytesPerEvent);
    for (const t of [template, withParams]) {
      const region = t === template ? 'us-east-1' : 'eu-central-1';
      const q = quota.firehoseQuota(region);
      const rate = t.Resources.HttpApiStage.Properties.DefaultRouteSettings.ThrottlingRateLimit as number;
      expect(rate * maxBytes).toBeLessThanOrEqual(q.mibPerSecond * 1024 * 1024);
      expect(rate).toBeLessThanOrEqual(q.requestsPerSecond);
    }
  });

  test("the quota arithmetic assumes the SDK's default batch size", () => {
    const sdk = readFileSync(join(root, 'client-sdk', 'src', 'index.ts'), 'utf8');
    const m = /batchSize: (\d+)/.exec(sdk);
    if (!m)
      throw new Error(
        'client-sdk/src/index.ts no longer sets a literal default batchSize: update scripts/cfn-params.js REQUEST_SHAPE and this test',
      );
    expect(Number(m[1])).toBe(quota.REQUEST_SHAPE.eventsPerRequest);
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
  const variants = [
    ['default', () => template],
    ['parquet', () => parquet],
  ] as const;

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
        if (rsc === undefined || (rsc === '*' && !list(s.Action).every((a) => RESOURCE_STAR_EXCEPTIONS.has(String(a)))))
          problems.push(`${where}: resource ${JSON.stringify(rsc)} for ${JSON.stringify(s.Action)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('the ingest Lambda may only PutRecordBatch into the two delivery streams (the only call it makes)', () => {
    const firehose = statements().filter(
      ({ where, s }) => where === 'IamRoleLambdaExecution' && list(s.Action).some((a) => String(a).startsWith('firehose:')),
    );
    expect(firehose).toHaveLength(1);
    expect(list(firehose[0]?.s.Action)).toEqual(['firehose:PutRecordBatch']);
    expect(firehose[0]?.s.Resource).toEqual([
      { 'Fn::GetAtt': ['EventsDeliveryStream', 'Arn'] },
      { 'Fn::GetAtt': ['RejectsDeliveryStream', 'Arn'] },
    ]);
    const client = readFileSync(join(root, 'handlers', 'clients', 'firehose.ts'), 'utf8');
    expect(client.match(/\b\w+Command\b/g)?.filter((c) => c !== 'PutRecordBatchCommand') ?? []).toEqual([]);
  });

  test('Firehose role trust: firehose.amazonaws.com with sts:ExternalId = this account (the documented confused-deputy guard)', () => {
    const trust = res('FirehoseRole').Properties.AssumeRolePolicyDocument.Statement as Json[];
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'firehose.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });
});

describe('alarms and outputs', () => {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  // As packaged: the SNS wiring is a condition, evaluated away in the effective template.
  const alarms = () =>
    Object.values(raw.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties);

  test.each([
    ['AWS/Lambda', 'Errors', 'GreaterThanThreshold'],
    ['AWS/Lambda', 'Throttles', 'GreaterThanThreshold'],
    ['AWS/Firehose', 'DeliveryToS3.Success', 'LessThanThreshold'],
    ['AWS/Firehose', 'DeliveryToS3.DataFreshness', 'GreaterThanThreshold'],
    ['AWS/Firehose', 'ThrottledRecords', 'GreaterThanThreshold'],
    ['AWS/ApiGateway', '5xx', 'GreaterThanThreshold'],
    ['Clickstream', 'DeliveryFailed', 'GreaterThanThreshold'],
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
    const watched = (metric: string) =>
      alarms()
        .filter((x) => x.MetricName === metric)
        .map((x) => x.Dimensions.map((d: Json) => d.Value));
    expect(watched('Errors')).toEqual([[{ Ref: 'IngestLambdaFunction' }]]);
    expect(watched('Throttles')).toEqual([[{ Ref: 'IngestLambdaFunction' }]]);
    expect(watched('DeliveryToS3.Success')).toEqual(
      expect.arrayContaining([[{ Ref: 'EventsDeliveryStream' }], [{ Ref: 'RejectsDeliveryStream' }]]),
    );
    expect(watched('DeliveryToS3.DataFreshness')).toEqual(
      expect.arrayContaining([[{ Ref: 'EventsDeliveryStream' }], [{ Ref: 'RejectsDeliveryStream' }]]),
    );
    expect(watched('ThrottledRecords')).toEqual([[{ Ref: 'EventsDeliveryStream' }]]);
    expect(watched('5xx')).toEqual([[{ Ref: 'HttpApi' }, '$default']]);
  });

  test("DeliveryFailed alarm: namespace, metric and dimensions exactly as Powertools writes the handler's EMF", () => {
    // Powertools Metrics configured as the deployed function is (its environment), emitting the
    // metric the handler adds when delivery fails. CloudWatch matches an alarm to a metric only when
    // namespace, name and the full dimension set are equal.
    const env = res('IngestLambdaFunction').Properties.Environment.Variables as Record<string, string>;
    expect(readFileSync(join(root, 'handlers', 'ingest.ts'), 'utf8')).toMatch(/addMetric\('DeliveryFailed'/);
    const saved = { ...process.env };
    let emf: Json;
    try {
      Object.assign(process.env, {
        POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: env.POWERTOOLS_METRICS_NAMESPACE,
      });
      const metrics = new Metrics();
      metrics.addMetric('DeliveryFailed', MetricUnit.Count, 1);
      emf = metrics.serializeMetrics();
    } finally {
      process.env = saved;
    }
    const directive = emf._aws.CloudWatchMetrics[0];
    const emitted = (directive.Dimensions as string[][]).map((names) => names.map((name) => ({ Name: name, Value: emf[name] })));
    const a = res('IngestDeliveryFailedAlarm').Properties;
    expect(a.Namespace).toBe(directive.Namespace);
    expect(directive.Metrics.map((m: Json) => m.Name)).toContain(a.MetricName);
    expect(emitted).toContainEqual(a.Dimensions);
    expect(a.Dimensions).toEqual([{ Name: 'service', Value: 'clickstream-ingest' }]);
  });

  test('without an alarm e-mail no topic exists and alarms have no actions; with one, all notify it', () => {
    expect(template.Resources.AlarmTopic).toBeUndefined();
    expect(template.Resources.AlarmEmailSubscription).toBeUndefined();
    expect(ofType('AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.AlarmActions !== undefined)).toEqual([]);
    const withEmail = effectiveTemplate({ ...raw, Conditions: { ...raw.Conditions, HasAlarmEmail: { 'Fn::Equals': ['x', 'x'] } } });
    expect(withEmail.Resources.AlarmEmailSubscription.Properties).toMatchObject({ Protocol: 'email', TopicArn: { Ref: 'AlarmTopic' } });
    const alarmsWith = ofType('AWS::CloudWatch::Alarm', withEmail as Template);
    expect(alarmsWith.length).toBeGreaterThanOrEqual(8);
    for (const [, a] of alarmsWith) expect(a.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    // The same, packaged with --param alarmEmail=...
    expect(withParams.Resources.AlarmEmailSubscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
    for (const [, a] of ofType('AWS::CloudWatch::Alarm', withParams)) expect(a.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });

  test('alarm topic: encrypted with a customer-managed key CloudWatch may use (the AWS-managed alias/aws/sns key cannot be)', () => {
    const t = withParams.Resources;
    expect(t.AlarmTopic.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlarmTopicKey' });
    const key = t.AlarmTopicKey.Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const cw = (key.KeyPolicy.Statement as Json[]).filter((st) => st.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cw).toHaveLength(1);
    expect(cw[0].Effect).toBe('Allow');
    expect([...list(cw[0].Action)].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(cw[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    // The account keeps administering the key (without it the key could not be changed or deleted).
    expect(key.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }, Action: 'kms:*' }),
    );
    // CloudWatch's service principal may publish to the topic, for this account's alarms only.
    const policy = t.AlarmTopicPolicy.Properties;
    expect(policy.Topics).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
      }),
    );
    // Nothing of it without an alarm e-mail (the key costs $1 a month).
    expect(template.Resources.AlarmTopicKey).toBeUndefined();
    expect(template.Resources.AlarmTopicPolicy).toBeUndefined();
  });

  test('the runbook (docs/operations.md) covers every alarm, and says a Firehose S3 delivery failing 24 h loses data', () => {
    const ops = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    const runbook = /## Alarms and what to do\n([\s\S]*?)\n## /.exec(ops)?.[1];
    if (!runbook) throw new Error('docs/operations.md has no "Alarms and what to do" section');
    const ids = [...ofType('AWS::CloudWatch::Alarm', withParams), ...ofType('AWS::CloudWatch::Alarm', parquet)].map(([id]) => id);
    expect([...new Set(ids)].filter((id) => !runbook.includes(id))).toEqual([]);
    // Firehose keeps failed S3 deliveries for up to 24 h, then they are lost; errors/ is for records
    // it could not process (developer guide, "Handle data delivery failures"), not for these.
    const delivery = runbook.split('\n').find((l) => l.includes('DeliverySuccessAlarm')) ?? '';
    expect(delivery).toMatch(/lost after 24 h/);
    expect(delivery).not.toMatch(/then writes to `errors\/`/);
  });

  test('SNS topic is conditional on an alarm e-mail', () => {
    expect(raw.Resources.AlarmTopic.Condition).toBe('HasAlarmEmail');
    expect(raw.Resources.AlarmEmailSubscription.Condition).toBe('HasAlarmEmail');
    expect(template.Conditions?.HasAlarmEmail).toBeDefined();
  });

  test('outputs: API URL, bucket names, workgroup, Glue database', () => {
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'HttpApiUrl',
        'ApiEndpoint',
        'SdkSnippet',
        'DataBucketName',
        'ResultsBucketName',
        'AthenaWorkGroupName',
        'GlueDatabaseName',
      ]),
    );
    expect(template.Outputs.DataBucketName.Value).toEqual({ Ref: 'DataBucket' });
    expect(template.Outputs.GlueDatabaseName.Value).toEqual({ Ref: 'GlueDatabase' });
  });
});

describe('Firehose streams and the local stand-in', () => {
  const streams = (t: Template) =>
    ofType('AWS::KinesisFirehose::DeliveryStream', t)
      .map(([, r]) => {
        const s3 = r.Properties.ExtendedS3DestinationConfiguration;
        return {
          name: r.Properties.DeliveryStreamName,
          intervalSeconds: s3.BufferingHints.IntervalInSeconds,
          sizeMB: s3.BufferingHints.SizeInMBs,
          gzip: s3.CompressionFormat === 'GZIP',
          prefix: s3.Prefix,
          errorOutputPrefix: s3.ErrorOutputPrefix,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));

  test.each(['EventsDeliveryStream', 'RejectsDeliveryStream'])(
    '%s: Direct PUT, 60 s / 64 MB buffers, its own CloudWatch log stream',
    (id) => {
      const p = res(id).Properties;
      expect(p.DeliveryStreamType).toBe('DirectPut');
      expect(p.ExtendedS3DestinationConfiguration.BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
      const logs = p.ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions;
      expect(res(logs.LogStreamName.Ref).Properties.LogGroupName).toEqual({ Ref: 'FirehoseLogGroup' });
    },
  );

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
    const location = parts
      .map((x) => (typeof x === 'string' ? x : 'BUCKET'))
      .join('')
      .replace('${dt}', '2026-11-22')
      .replace('${hour}', '07');
    expect(`s3://BUCKET/${key}`.startsWith(location)).toBe(true);
    // Directly in the partition folder, not below it: Athena reads only that folder's objects.
    expect(`s3://BUCKET/${key}`.slice(location.length)).not.toContain('/');
  });
});

describe('Parquet output (--param dataFormat=parquet)', () => {
  const s3 = (t: Template) => t.Resources.EventsDeliveryStream.Properties.ExtendedS3DestinationConfiguration;
  const sd = (t: Template, id = 'EventsTable') => t.Resources[id].Properties.TableInput.StorageDescriptor;
  const glueStatements = (t: Template) =>
    (t.Resources.FirehoseRole.Properties.Policies as Json[])
      .flatMap((p) => p.PolicyDocument.Statement as Json[])
      .filter((st) => [st.Action].flat().some((a: string) => a.startsWith('glue:')));

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
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: { Ref: 'GlueDatabase' },
      TableName: { Ref: 'EventsTable' },
      Region: { Ref: 'AWS::Region' },
      RoleARN: { 'Fn::GetAtt': ['FirehoseRole', 'Arn'] },
      VersionId: 'LATEST',
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
      Namespace: 'AWS/Firehose',
      MetricName: 'FailedConversion.Records',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: { Ref: 'EventsDeliveryStream' } }],
    });
  });

  test('the variants differ only by that alarm: same resources otherwise, same outputs', () => {
    const ids = (t: Template) =>
      Object.keys(t.Resources)
        .filter((k) => !k.startsWith('IngestLambdaVersion'))
        .sort();
    expect(ids(parquet).filter((k) => !ids(template).includes(k))).toEqual(['EventsConversionFailedAlarm']);
    expect(ids(template).filter((k) => !ids(parquet).includes(k))).toEqual([]);
    expect(Object.keys(parquet.Outputs).sort()).toEqual(Object.keys(template.Outputs).sort());
  });
});

/**
 * Managed CloudFront policies by ID, as the CloudFront developer guide lists them ("Use managed cache
 * policies", "Use managed response headers policies"): a typo in an ID would fail only at deploy.
 */
const MANAGED = {
  CachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  CachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  'CORS-and-SecurityHeadersPolicy': 'e61eb60c-9c35-4d20-a928-2b84e02af89c',
};

describe('Edge (CloudFront): the SDK and /v1/events on one origin', () => {
  const dist = (t: Template = template) => t.Resources.EdgeDistribution.Properties.DistributionConfig;
  const origin = (id: string, t: Template = template) => (dist(t).Origins as Json[]).find((o) => o.Id === id);
  const api = (t: Template = template) => (dist(t).CacheBehaviors as Json[]).find((b) => b.PathPattern === '/v1/*');
  const statements = (t: Template, bucket: string) =>
    ofType('AWS::S3::BucketPolicy', t)
      .filter(([, r]) => r.Properties.Bucket?.Ref === bucket)
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[]);

  test('on by default: a distribution, its Origin Access Control, the ingest origin request policy', () => {
    expect(ofType('AWS::CloudFront::Distribution').map(([id]) => id)).toEqual(['EdgeDistribution']);
    expect(res('EdgeOriginAccessControl').Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    expect(dist().Enabled).toBe(true);
  });

  test('SDK origin: the private bucket through OAC (no origin access identity), never public', () => {
    const o = origin('sdk');
    expect(o.DomainName).toEqual({ 'Fn::GetAtt': ['SdkBucket', 'RegionalDomainName'] });
    expect(o.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['EdgeOriginAccessControl', 'Id'] });
    expect(o.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(res('SdkBucket').Properties.WebsiteConfiguration).toBeUndefined();
  });

  test('no bucket policy of the stack allows a public principal; the SDK bucket lets only this distribution read sdk/*', () => {
    const isPublic = (p: Json) => p === '*' || p?.AWS === '*' || (Array.isArray(p?.AWS) && p.AWS.includes('*'));
    for (const t of [template, noEdge, edgeDomainWaf, withParams]) {
      const allows = ofType('AWS::S3::BucketPolicy', t)
        .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[])
        .filter((st) => st.Effect === 'Allow');
      expect(allows.filter((st) => isPublic(st.Principal))).toEqual([]);
    }
    const allow = statements(template, 'SdkBucket').filter((st) => st.Effect === 'Allow');
    expect(allow).toEqual([
      {
        Sid: 'EdgeReadsTheSdk',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Sub': '${SdkBucket.Arn}/sdk/*' },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${EdgeDistribution}' },
          },
        },
      },
    ]);
  });

  test('/sdk/ (default behaviour): GET/HEAD from the bucket, cached (CachingOptimized), Brotli/gzip, HTTPS, CORS for the integrity check', () => {
    const d = dist().DefaultCacheBehavior;
    expect(d).toMatchObject({
      TargetOriginId: 'sdk',
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      Compress: true,
      CachePolicyId: MANAGED.CachingOptimized,
      ResponseHeadersPolicyId: MANAGED['CORS-and-SecurityHeadersPolicy'],
    });
  });

  test('/v1/* to the HTTP API: never cached, POST allowed, HTTPS only, only the headers the handler reads plus the viewer address and geo', () => {
    const b = api();
    expect(b).toMatchObject({
      TargetOriginId: 'api',
      ViewerProtocolPolicy: 'https-only',
      CachePolicyId: MANAGED.CachingDisabled,
      OriginRequestPolicyId: { Ref: 'EdgeIngestOriginRequestPolicy' },
    });
    expect(b.AllowedMethods).toEqual(expect.arrayContaining(['POST', 'OPTIONS']));
    const o = origin('api');
    expect(o.DomainName).toEqual({ 'Fn::Sub': '${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}' });
    expect(o.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    const p = res('EdgeIngestOriginRequestPolicy').Properties.OriginRequestPolicyConfig;
    expect(p.CookiesConfig).toEqual({ CookieBehavior: 'none' });
    expect(p.QueryStringsConfig).toEqual({ QueryStringBehavior: 'none' });
    expect(p.HeadersConfig.HeaderBehavior).toBe('whitelist');
    expect([...p.HeadersConfig.Headers].map((h: string) => h.toLowerCase()).sort()).toEqual([
      'access-control-request-headers',
      'access-control-request-method',
      'cloudfront-viewer-address',
      'cloudfront-viewer-country',
      'cloudfront-viewer-country-region',
      'content-type',
      'origin',
      'user-agent',
    ]);
    // The Host header would make API Gateway look for another API: never forwarded.
    expect(p.HeadersConfig.Headers.map((h: string) => h.toLowerCase())).not.toContain('host');
  });

  test('the upload function: its own bundle and role, writing and cleaning only sdk/ of the SDK bucket', () => {
    const fn = res('SdkUploadLambdaFunction').Properties;
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['SdkUploadRole', 'Arn'] });
    expect(fn.Code.S3Key).toMatch(/\/sdkUpload\.zip$/);
    expect(fn.Environment?.Variables?.VISITOR_SALT_SECRET).toBeUndefined();
    const st = (res('SdkUploadRole').Properties.Policies as Json[]).flatMap((p) => p.PolicyDocument.Statement as Json[]);
    expect(st).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': ['SdkUploadLogGroup', 'Arn'] } },
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: { 'Fn::Sub': '${SdkBucket.Arn}/sdk/*' } },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': ['SdkBucket', 'Arn'] },
        Condition: { StringLike: { 's3:prefix': 'sdk/*' } },
      },
    ]);
    // And nobody else writes there: the ingest role has no S3 action at all.
    const ingest = (res('IamRoleLambdaExecution').Properties.Policies as Json[]).flatMap((p) => p.PolicyDocument.Statement as Json[]);
    expect(ingest.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'))).toEqual([]);
    const up = res('SdkUpload');
    expect(up.Properties).toMatchObject({
      ServiceToken: { 'Fn::GetAtt': ['SdkUploadLambdaFunction', 'Arn'] },
      Bucket: { Ref: 'SdkBucket' },
      Prefix: 'sdk/',
    });
  });

  test('the snippet names a real uploaded object with a matching SRI hash, and loads it from the edge with the endpoint on the same origin', () => {
    const files = res('SdkUpload').Properties.Files as {
      Key: string;
      Body: string;
      ContentType: string;
      CacheControl: string;
      Integrity: string;
    }[];
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const f of files) {
      expect(f.Integrity).toBe(`sha384-${createHash('sha384').update(f.Body).digest('base64')}`);
      expect(f).toMatchObject({ ContentType: 'text/javascript; charset=utf-8', CacheControl: 'public, max-age=31536000, immutable' });
      expect(f.Key).toMatch(/^sdk\/clickstream(\.core)?\.[0-9a-f]{16}\.min\.js$/);
    }
    const [sub, vars] = template.Outputs.SdkSnippet.Value['Fn::Sub'] as [string, Json];
    expect(vars).toEqual({ Edge: { 'Fn::Sub': 'https://${EdgeDistribution.DomainName}' } });
    const edge = 'https://d111111abcdef8.cloudfront.net';
    const js = sub.replaceAll('${Edge}', edge).replace(/<\/?script>/g, '');
    const appended: Json[] = [];
    const ctx: Json = { document: { createElement: (tag: string) => ({ tag }), head: { appendChild: (el: Json) => appended.push(el) } } };
    ctx.window = ctx;
    runInNewContext(js, ctx);
    expect(appended).toHaveLength(1);
    const el = appended[0];
    expect(el).toMatchObject({ tag: 'script', async: true, crossOrigin: 'anonymous' });
    const key = String(el.src).slice(`${edge}/`.length);
    const uploaded = files.find((f) => f.Key === key);
    expect(uploaded).toBeDefined();
    expect(el.integrity).toBe(`sha384-${createHash('sha384').update(uploaded!.Body).digest('base64')}`);
    // The full build (not the core one) is what the snippet loads.
    expect(key).toMatch(/^sdk\/clickstream\.[0-9a-f]{16}\.min\.js$/);
    expect(ctx.clickstream.q.map((args: Json) => Array.from(args))).toEqual([['init', { endpoint: `${edge}/v1/events`, siteId: 'demo' }]]);
    expect(template.Outputs.EdgeEndpoint.Value).toEqual({ 'Fn::Sub': ['${Edge}/v1/events', vars] });
    expect(template.Outputs.SdkUrl.Value).toEqual({ 'Fn::Sub': [`\${Edge}/${key}`, vars] });
  });

  test('each object name is derived from its bytes (a rebuild of other bytes is another name), and the template carries the full and the core build', () => {
    const files = res('SdkUpload').Properties.Files as { Key: string; Body: string }[];
    for (const f of files) {
      const hash = /\.([0-9a-f]{16})\.min\.js$/.exec(f.Key)?.[1];
      expect(hash).toBe(createHash('sha256').update(f.Body).digest('hex').slice(0, 16));
    }
    expect(files.map((f) => f.Key.replace(/\.[0-9a-f]{16}\./, '.'))).toEqual(['sdk/clickstream.min.js', 'sdk/clickstream.core.min.js']);
  });

  test('custom domain: alias, ACM certificate (us-east-1) with SNI and TLS 1.2, and the snippet and endpoint on that domain', () => {
    const d = dist(edgeDomainWaf);
    expect(d.Aliases).toEqual(['t.example.com']);
    expect(d.ViewerCertificate).toEqual({
      AcmCertificateArn: CERT_ARN,
      SslSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    expect(dist().Aliases).toBeUndefined();
    expect(dist().ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    const [sub, vars] = edgeDomainWaf.Outputs.SdkSnippet.Value['Fn::Sub'] as [string, Json];
    expect(vars).toEqual({ Edge: 'https://t.example.com' });
    expect(sub).toContain('endpoint: "${Edge}/v1/events"');
    expect(edgeDomainWaf.Outputs.EdgeDomainName.Value).toEqual({ 'Fn::GetAtt': ['EdgeDistribution', 'DomainName'] });
  });

  test('WAF (off by default): a CLOUDFRONT web ACL with a per-IP rate limit on /v1/ answering 429 + Retry-After, on the distribution', () => {
    expect(ofType('AWS::WAFv2::WebACL')).toEqual([]);
    expect(dist().WebACLId).toBeUndefined();
    const acl = edgeDomainWaf.Resources.EdgeWebAcl.Properties;
    expect(acl.Scope).toBe('CLOUDFRONT');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    expect(acl.Rules).toHaveLength(1);
    const rule = acl.Rules[0];
    expect(rule.Statement.RateBasedStatement).toMatchObject({ Limit: 2000, AggregateKeyType: 'IP' });
    expect(rule.Statement.RateBasedStatement.ScopeDownStatement.ByteMatchStatement).toMatchObject({
      FieldToMatch: { UriPath: {} },
      PositionalConstraint: 'STARTS_WITH',
      SearchString: '/v1/',
    });
    // 429 is a status the SDK retries (403, WAF's default, would make it drop the events).
    expect(rule.Action.Block.CustomResponse).toEqual({ ResponseCode: 429, ResponseHeaders: [{ Name: 'retry-after', Value: '60' }] });
    expect(dist(edgeDomainWaf).WebACLId).toEqual({ 'Fn::GetAtt': ['EdgeWebAcl', 'Arn'] });
    // Outside us-east-1 the stack cannot create one: an ACL made there is attached by ARN.
    expect(ofType('AWS::WAFv2::WebACL', withParams)).toEqual([]);
    expect(dist(withParams).WebACLId).toBe(WEB_ACL_ARN);
  });

  test('origin secret: CloudFront adds it to every request to the API and the handler believes viewer headers only with it; generated by Secrets Manager by default, cloudFrontOriginSecret when set', () => {
    // Default: one generated secret, the same reference in the header CloudFront sends and in the handler's env.
    const generated = { 'Fn::Sub': '{{resolve:secretsmanager:${EdgeOriginSecret}}}' };
    expect(origin('api').OriginCustomHeaders).toEqual([{ HeaderName: 'x-origin-verify', HeaderValue: generated }]);
    expect(template.Resources.IngestLambdaFunction.Properties.Environment.Variables.CLOUDFRONT_ORIGIN_SECRET).toEqual(generated);
    expect(template.Resources.IngestLambdaFunction.Properties.Environment.Variables.TRUST_CLOUDFRONT_HEADERS).toBe('true');
    expect(template.Resources.EdgeOriginSecret.Type).toBe('AWS::SecretsManager::Secret');
    expect(template.Resources.EdgeOriginSecret.Properties.GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(32);
    // Without the edge: no secret, none expected by the handler, and no viewer header believed.
    expect(noEdge.Resources.IngestLambdaFunction.Properties.Environment.Variables.CLOUDFRONT_ORIGIN_SECRET).toBe('');
    expect(noEdge.Resources.IngestLambdaFunction.Properties.Environment.Variables.TRUST_CLOUDFRONT_HEADERS).toBe('false');
    expect(origin('api', edgeDomainWaf).OriginCustomHeaders).toEqual([
      { HeaderName: 'x-origin-verify', HeaderValue: 's3cr3t-0f-the-edge' },
    ]);
    expect(edgeDomainWaf.Resources.EdgeOriginSecret).toBeUndefined();
    const env = edgeDomainWaf.Resources.IngestLambdaFunction.Properties.Environment.Variables;
    expect(env.CLOUDFRONT_ORIGIN_SECRET).toBe('s3cr3t-0f-the-edge');
    // Never to the SDK bucket: S3 has no use for it.
    expect(origin('sdk', edgeDomainWaf).OriginCustomHeaders).toBeUndefined();
  });

  test('edge=false: no CloudFront or WAF; the snippet names the API and sdkUrl; the SDK bucket stays private with nothing allowed', () => {
    const types = Object.values(noEdge.Resources).map((r) => r.Type as string);
    expect(types.filter((t) => t.startsWith('AWS::CloudFront::') || t.startsWith('AWS::WAFv2::'))).toEqual([]);
    expect(statements(noEdge, 'SdkBucket').filter((st) => st.Effect === 'Allow')).toEqual([]);
    expect(noEdge.Outputs.EdgeEndpoint).toBeUndefined();
    const sub = noEdge.Outputs.SdkSnippet.Value['Fn::Sub'] as string;
    expect(sub.match(/\$\{[^}]*\}/g)).toEqual(['${HttpApi.ApiEndpoint}']);
    expect(sub).toContain('s.src="https://YOUR-CDN/clickstream.min.js"');
  });
});

describe('SDK outputs', () => {
  test('ApiEndpoint: the HTTP API endpoint + /v1/events, for tools, with or without the edge', () => {
    expect(template.Outputs.ApiEndpoint.Value).toEqual({ 'Fn::Sub': '${HttpApi.ApiEndpoint}/v1/events' });
    expect(noEdge.Outputs.ApiEndpoint.Value).toEqual(template.Outputs.ApiEndpoint.Value);
  });

  test('README "Add to your site" is the SdkSnippet output, with only the domain, the build\'s hash and the site id left as placeholders', () => {
    const [sub] = template.Outputs.SdkSnippet.Value['Fn::Sub'] as [string];
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Add to your site[\s\S]*?```html\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!block) throw new Error('README.md "Add to your site" has no html block');
    const asReadme = sub
      .replaceAll('${Edge}', 'https://t.example.com')
      .replace(/clickstream\.[0-9a-f]{16}\.min\.js/, 'clickstream.HASH.min.js')
      .replace(/sha384-[A-Za-z0-9+/=]+/, 'sha384-HASH')
      .replace('siteId: "demo"', 'siteId: "YOUR-SITE-ID"');
    expect(asReadme).toBe(block.trimEnd());
  });
});

describe('package-time guards (scripts/)', () => {
  type Resolver = (ctx: { resolveVariable: (v: string) => Promise<unknown> }) => Promise<string>;
  const cfn = require('../../scripts/cfn-athena.js') as {
    dataFormat: Resolver;
    firstSiteIdOf: (sites: unknown, pattern: string) => string;
  };
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

  test('reservedConcurrency: unset means none; 0 (throttles everything) and non-integers fail the package', () => {
    expect(quota.reservedConcurrencyOf('')).toBe('');
    expect(quota.reservedConcurrencyOf(undefined)).toBe('');
    expect(quota.reservedConcurrencyOf('25')).toBe(25);
    expect(() => quota.reservedConcurrencyOf('0')).toThrow(/throttle every request/);
    expect(() => quota.reservedConcurrencyOf('-3')).toThrow(/integer >= 1/);
    expect(() => quota.reservedConcurrencyOf('2.5')).toThrow(/integer >= 1/);
  });

  test('throttle: explicit params win; a raised Firehose quota scales the derived rate; bad values fail', () => {
    expect(quota.throttleOf({ region: 'ap-southeast-2' })).toEqual({ rate: 52, burst: 52 });
    expect(quota.throttleOf({ region: 'eu-west-1' })).toEqual({ rate: 262, burst: 262 });
    // After a raise to 10 MiB/s in eu-central-1 (requests scale with it: 10,000/s).
    expect(quota.throttleOf({ region: 'eu-central-1', firehoseMiBps: '10' })).toEqual({ rate: 524, burst: 524 });
    expect(quota.throttleOf({ region: 'eu-central-1', throttleRate: '30', throttleBurst: '60' })).toEqual({ rate: 30, burst: 60 });
    expect(() => quota.throttleOf({ region: 'eu-central-1', throttleRate: 'fast' })).toThrow(/throttleRate/);
    expect(() => quota.throttleOf({ region: 'eu-central-1', firehoseMiBps: '0' })).toThrow(/firehoseMiBps/);
  });

  test('cfnOverrides: sets an existing nested value and keeps its siblings; a missing path fails', () => {
    const resources = { S: { Properties: { C: { A: 1, B: 2 } } } };
    applyOverrides(resources, { 'S.Properties.C.A': { 'Fn::If': ['X', 3, 1] } });
    expect(resources.S.Properties.C).toEqual({ A: { 'Fn::If': ['X', 3, 1] }, B: 2 });
    expect(() => applyOverrides(resources, { 'T.Properties.C.A': 1 })).toThrow(/T not found/);
    expect(() => applyOverrides(resources, { 'S.Properties.C.Z': 1 })).toThrow(/Z not set/);
  });

  describe('edge params (scripts/cfn-edge.js)', () => {
    const edge = require('../../scripts/cfn-edge.js') as {
      edge: Resolver;
      edgeDomainOf: (p: { edgeDomain?: string; edgeCertificateArn?: string }) => { domain: string; cert: string };
      wafOf: (p: { region: string; edgeWafRateLimit?: string; edgeWebAclArn?: string }) => { limit: number | ''; arn: string };
    };

    test('edge: on unless the param says false; anything else fails', async () => {
      await expect(edge.edge(params({}))).resolves.toBe('true');
      await expect(edge.edge(params({ edge: 'false' }))).resolves.toBe('false');
      await expect(edge.edge(params({ edge: 'off' }))).rejects.toThrow(/true or false/);
    });

    test('custom domain: both params or neither; the certificate must be in us-east-1 (CloudFront takes no other)', () => {
      expect(edge.edgeDomainOf({})).toEqual({ domain: '', cert: '' });
      expect(edge.edgeDomainOf({ edgeDomain: 'T.Example.com', edgeCertificateArn: CERT_ARN })).toEqual({
        domain: 't.example.com',
        cert: CERT_ARN,
      });
      expect(() => edge.edgeDomainOf({ edgeDomain: 't.example.com' })).toThrow(/go together/);
      expect(() => edge.edgeDomainOf({ edgeCertificateArn: CERT_ARN })).toThrow(/go together/);
      expect(() =>
        edge.edgeDomainOf({ edgeDomain: 't.example.com', edgeCertificateArn: CERT_ARN.replace('us-east-1', 'eu-west-1') }),
      ).toThrow(/only uses ACM certificates from us-east-1; this one is in eu-west-1/);
      expect(() => edge.edgeDomainOf({ edgeDomain: 'https://t.example.com', edgeCertificateArn: CERT_ARN })).toThrow(/host name/);
    });

    test('WAF: off by default; created only in us-east-1, elsewhere the package fails and names edgeWebAclArn', () => {
      expect(edge.wafOf({ region: 'eu-west-1' })).toEqual({ limit: '', arn: '' });
      expect(edge.wafOf({ region: 'us-east-1', edgeWafRateLimit: '2000' })).toEqual({ limit: 2000, arn: '' });
      expect(() => edge.wafOf({ region: 'eu-west-1', edgeWafRateLimit: '2000' })).toThrow(/only be created in us-east-1.*edgeWebAclArn/);
      expect(edge.wafOf({ region: 'eu-west-1', edgeWebAclArn: WEB_ACL_ARN })).toEqual({ limit: '', arn: WEB_ACL_ARN });
      expect(() => edge.wafOf({ region: 'us-east-1', edgeWafRateLimit: '2000', edgeWebAclArn: WEB_ACL_ARN })).toThrow(/not both/);
      expect(() => edge.wafOf({ region: 'us-east-1', edgeWafRateLimit: '5' })).toThrow(/integer >= 100/);
      // A REGIONAL ACL cannot attach to CloudFront.
      expect(() =>
        edge.wafOf({ region: 'eu-west-1', edgeWebAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/0a1b' }),
      ).toThrow(/CLOUDFRONT-scope/);
    });
  });
});
