/**
 * The deployed compaction (issue 13), proven offline on the packaged template: the state machine
 * runs the SQL `npm run compact` runs, on the schedule param, its failures alarm, its role can do
 * what the statements need and no more, and the Iceberg tables are created before the views.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ATHENA_TABLES, stateMachineDefinition, WORKGROUP } from '../../local/athena-local/compaction';
import { CUTOFF_MARGIN_MS } from '../../local/compact';
import { loadSpec, validateTemplate } from './cfn-spec';
import { effectiveTemplate, type CfnTemplate } from './effective';
import { withPackageLock } from './package-lock';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped; the tests read it by path.
type Json = any;
// The plain-JS serverless resolver.
const { viewStatements } = require('../../scripts/cfn-athena.js') as { viewStatements: () => { Name: string; Sql: string }[] };

const root = join(__dirname, '..', '..');
let tmp: string;
let t: CfnTemplate & { Resources: Record<string, Json> };

async function osPackage(name: string, extra: string[]): Promise<Json> {
  const out = join(tmp, name);
  // As test/infra/template.test.ts: HOME/TMPDIR and the build dir kept out of the checkout's.
  const env = { ...process.env, HOME: tmp, TMPDIR: tmp, CLICKSTREAM_BUILD_DIR: join(tmp, `build-${name}`), SLS_TELEMETRY_DISABLED: '1' };
  // One package at a time per checkout: template.test.ts packages in another worker (package-lock.ts).
  await withPackageLock(() =>
    promisify(execFile)(join(root, 'node_modules', '.bin', 'osls'), ['package', '--stage', 'dev', '--package', out, ...extra], {
      cwd: root,
      env,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    }),
  );
  return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}

/** The DefinitionString with the workgroup Ref put back as the placeholder, parsed. */
function definitionOf(r: Json): Json {
  const parts = r.Properties.DefinitionString['Fn::Join'][1] as (string | { Ref: string })[];
  for (const p of parts) if (typeof p !== 'string') expect(p).toEqual({ Ref: 'AthenaWorkGroup' });
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : WORKGROUP)).join(''));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'clickstream-infra-compaction-'));
  t = effectiveTemplate(await osPackage('default', ['--param', 'alarmEmail=ops@example.com']));
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('compaction in the template', () => {
  it('is valid CloudFormation for the resource types it adds', () => {
    const mine = Object.fromEntries(Object.entries(t.Resources).filter(([k]) => /^Compact/.test(k)));
    expect(Object.keys(mine).sort()).toEqual([
      'CompactedBucket',
      'CompactedBucketPolicy',
      'CompactionFailedAlarm',
      'CompactionRole',
      'CompactionSchedule',
      'CompactionSchedulerRole',
      'CompactionSeam',
      'CompactionStateMachine',
    ]);
    expect(validateTemplate({ Resources: mine }, loadSpec())).toEqual([]);
  });

  it("runs the state machine built from the local SQL, in the stack's workgroup", () => {
    const want = stateMachineDefinition({ days: 3, marginMinutes: CUTOFF_MARGIN_MS / 60_000 }, viewStatements());
    expect(definitionOf(t.Resources.CompactionStateMachine)).toEqual(JSON.parse(JSON.stringify(want)));
    expect(t.Resources.CompactionStateMachine.Properties.StateMachineType).toBe('STANDARD');
  });

  it('after a deploy that re-creates the views, starts its seam-only run (Custom::CompactionSeam), with a policy that may start only it', () => {
    const seam = t.Resources.CompactionSeam;
    expect(seam.Type).toBe('Custom::CompactionSeam');
    expect(seam.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['AthenaViewsLambdaFunction', 'Arn'] });
    expect(seam.Properties.StateMachine).toEqual({ Ref: 'CompactionStateMachine' });
    // Re-run on exactly the deploys that re-create the views, and only after them.
    expect(seam.Properties.Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(seam.Properties.Fingerprint).toBe(t.Resources.AthenaViews.Properties.Fingerprint);
    expect(seam.DependsOn).toEqual(expect.arrayContaining(['AthenaViews', 'AthenaViewsStartSeamPolicy']));
    const policy = t.Resources.AthenaViewsStartSeamPolicy;
    expect(policy.Properties.Roles).toEqual([{ Ref: 'AthenaViewsRole' }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'CompactionStateMachine' } },
    ]);
    // The state machine's first state routes that input to the seam (unit-tested in query-compaction).
    expect(definitionOf(t.Resources.CompactionStateMachine).StartAt).toBe('Start');
  });

  it('starts it daily by EventBridge Scheduler, in UTC, with a role that may start only it', () => {
    const s = t.Resources.CompactionSchedule.Properties;
    expect(s.ScheduleExpression).toBe('cron(30 1 * * ? *)');
    expect(s.ScheduleExpressionTimezone).toBe('UTC');
    expect(s.Target.Arn).toEqual({ Ref: 'CompactionStateMachine' });
    const role = t.Resources.CompactionSchedulerRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(role.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'CompactionStateMachine' } },
    ]);
  });

  it('alarms on a failed run to the alarm topic', () => {
    const a = t.Resources.CompactionFailedAlarm.Properties;
    expect(a).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(a.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: 'CompactionStateMachine' } }]);
  });

  it('lets the state machine run Athena in the workgroup and commit to its own tables only', () => {
    const stmts = t.Resources.CompactionRole.Properties.Policies[0].PolicyDocument.Statement as Json[];
    const actions = stmts.flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'glue:UpdateTable',
        's3:PutObject',
      ]),
    );
    expect(actions.some((a: string) => a.endsWith('*'))).toBe(false);
    const update = stmts.find((s) => s.Action.includes('glue:UpdateTable') && !s.Action.includes('glue:CreateTable'));
    expect(JSON.stringify(update.Resource)).toContain('events_compacted');
    // Raw objects are read, never written.
    const onData = stmts.filter((s) => JSON.stringify(s.Resource).includes('DataBucket.Arn}/'));
    expect(onData.flatMap((s) => s.Action)).toEqual(['s3:GetObject']);
  });

  it('creates the Iceberg tables through Custom::AthenaViews, before the views, in a bucket with no expiry', () => {
    const v = t.Resources.AthenaViews.Properties;
    expect(v.Tables.map((x: Json) => x.Name)).toEqual(ATHENA_TABLES.map((x) => x.name));
    expect(JSON.stringify(v.Tables[0].Sql)).toContain("'table_type' = 'ICEBERG'");
    expect(JSON.stringify(v.Tables[0].Sql)).toContain('{"Ref":"CompactedBucket"}');
    expect(t.Resources.AthenaViews.DependsOn).toContain('CompactedBucket');
    expect(JSON.stringify(t.Resources.CompactedBucket.Properties.LifecycleConfiguration)).not.toContain('Expiration');
  });

  it('refuses a compactionDays param out of range at package time', async () => {
    await expect(osPackage('bad-days', ['--param', 'compactionDays=0'])).rejects.toThrow(/compactionDays/);
  }, 120_000);
});
