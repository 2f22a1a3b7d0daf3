/**
 * handlers/athena-views.ts, the Custom::AthenaViews provider, in process: Athena is mocked at the SDK
 * client (aws-sdk-client-mock); the answer to CloudFormation's pre-signed ResponseURL is taken from
 * fetch as the Request it builds from the handler's arguments (method, URL, the headers fetch would
 * send, the body bytes), with no socket. The answer is a PUT of a JSON object of at most 4,096
 * bytes to the pre-signed URL (CloudFormation user guide, "Custom resource response objects"). test/integration/handler-sdk-upload.test.ts sends the same
 * client's answer to a real HTTP server.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
const { handler, ANSWER_MARGIN_MS } = require('../../handlers/athena-views') as typeof import('../../handlers/athena-views');

interface Answer {
  method?: string;
  url?: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const athena = mockClient(AthenaClient);
// Never contacted: fetch is replaced below.
const base = 'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com';
let answers: Answer[];
let answerStatus: number;

beforeEach(() => {
  athena.reset();
  answers = [];
  answerStatus = 200;
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    // The Request fetch makes of the same arguments carries the headers it would send (a string
    // body would get a text/plain content type here, for example).
    const req = new Request(input, init);
    const url = new URL(req.url);
    answers.push({
      method: req.method,
      url: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: JSON.parse(await req.text()) as Record<string, unknown>,
    });
    return new Response(answerStatus === 200 ? '' : '<Error>SignatureDoesNotMatch</Error>', { status: answerStatus });
  });
});
afterEach(() => jest.restoreAllMocks());

const VIEW = { Name: 'events_dedup', Sql: 'CREATE OR REPLACE VIEW events_dedup AS\nSELECT * FROM events' };
const props = (views = [VIEW], database = 'clickstream_dev') => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:clickstream-dev-athenaViews',
  Database: database,
  WorkGroup: 'clickstream-dev',
  Views: views,
  Fingerprint: 'f1',
});
const common = () => ({
  ServiceToken: props().ServiceToken,
  ResponseURL: `${base}/cloudformation-custom-resource-response-euwest1/stack%7Cclickstream-dev?X-Amz-Signature=abc`,
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/clickstream-dev/0a1b2c3d',
  RequestId: 'b5a0c9de-0000-4000-8000-000000000001',
  LogicalResourceId: 'AthenaViews',
  ResourceType: 'Custom::AthenaViews',
});
const createEvent = (p = props()): CloudFormationCustomResourceEvent => ({ ...common(), RequestType: 'Create', ResourceProperties: p });
const updateEvent = (p = props(), old = props()): CloudFormationCustomResourceEvent => ({
  ...common(),
  RequestType: 'Update',
  PhysicalResourceId: 'athena-views:clickstream_dev',
  ResourceProperties: p,
  OldResourceProperties: old,
});
const deleteEvent = (p = props()): CloudFormationCustomResourceEvent => ({
  ...common(),
  RequestType: 'Delete',
  PhysicalResourceId: 'athena-views:clickstream_dev',
  ResourceProperties: p,
});

const context = (remainingMs = 120_000) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;
const started = (): StartQueryExecutionCommandInput[] => athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
const succeeding = () => {
  athena.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => ({
    QueryExecutionId: `q-${started().length}-${input.QueryString?.slice(0, 4)}`,
  }));
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
};

describe('Custom::AthenaViews', () => {
  test('Create: runs each view statement in the workgroup and database, then answers SUCCESS on the ResponseURL', async () => {
    succeeding();
    await handler(createEvent(), context());

    expect(started()).toEqual([
      expect.objectContaining({
        QueryString: VIEW.Sql,
        WorkGroup: 'clickstream-dev',
        QueryExecutionContext: { Database: 'clickstream_dev' },
      }),
    ]);
    expect(answers).toHaveLength(1);
    const [a] = answers;
    expect(a?.method).toBe('PUT');
    expect(a?.url).toBe('/cloudformation-custom-resource-response-euwest1/stack%7Cclickstream-dev?X-Amz-Signature=abc');
    // The pre-signed URL was signed without a content type: none may be sent.
    expect(a?.headers['content-type'] ?? '').toBe('');
    expect(a?.body).toEqual({
      Status: 'SUCCESS',
      Reason: 'SUCCESS',
      PhysicalResourceId: 'athena-views:clickstream_dev',
      StackId: common().StackId,
      RequestId: common().RequestId,
      LogicalResourceId: 'AthenaViews',
    });
  });

  test("Create and Update: the compaction's tables first (the views read them), and a table is never dropped", async () => {
    succeeding();
    const TABLE = {
      Name: 'events_compacted',
      Sql: "CREATE TABLE IF NOT EXISTS events_compacted (event_id string) LOCATION 's3://b/events_compacted/' TBLPROPERTIES ('table_type' = 'ICEBERG')",
    };
    const withTables = { ...props(), Tables: [TABLE] };
    await handler(createEvent(withTables), context());
    expect(started().map((s) => s.QueryString)).toEqual([TABLE.Sql, VIEW.Sql]);
    athena.resetHistory();
    await handler(updateEvent(props(), withTables), context());
    expect(started().map((s) => s.QueryString)).toEqual([VIEW.Sql]);
    expect(answers.map((a) => a.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  test('a retried invocation reuses the same idempotency token per step', async () => {
    succeeding();
    await handler(createEvent(), context());
    await handler(createEvent(), context());
    const [first, second] = started();
    expect(first?.ClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(second?.ClientRequestToken).toBe(first?.ClientRequestToken);
  });

  test('Update: re-creates the views (a table changed) and drops a view no longer listed', async () => {
    succeeding();
    const old = props([VIEW, { Name: 'old_view', Sql: 'CREATE OR REPLACE VIEW old_view AS SELECT 1' }]);
    await handler(updateEvent(props(), old), context());
    expect(started().map((s) => s.QueryString)).toEqual([VIEW.Sql, 'DROP VIEW IF EXISTS old_view']);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'athena-views:clickstream_dev' });
  });

  test('Update to another database: a new physical id (CloudFormation then deletes the old views), nothing dropped here', async () => {
    succeeding();
    await handler(updateEvent(props([VIEW], 'clickstream_new'), props([VIEW, { Name: 'old_view', Sql: 'x' }])), context());
    expect(started().map((s) => s.QueryString)).toEqual([VIEW.Sql]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'athena-views:clickstream_new' });
  });

  test("a failed statement answers FAILED with Athena's reason", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: 'FAILED', StateChangeReason: "line 3:8: Table 'awsdatacatalog.clickstream_dev.events' does not exist" },
      },
    });
    await handler(createEvent(), context());
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'athena-views:clickstream_dev' });
    expect(answers[0]?.body.Reason).toMatch(/q1 FAILED: line 3:8: Table .* does not exist/);
  });

  test('an Athena error (access denied) answers FAILED, not a hung stack', async () => {
    athena
      .on(StartQueryExecutionCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform: athena:StartQueryExecution'), { name: 'AccessDeniedException' }),
      );
    await handler(createEvent(), context());
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    expect(answers[0]?.body.Reason).toMatch(/not authorized/);
  });

  test('a statement still running at the deadline is stopped, and FAILED is answered before the Lambda timeout', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const remaining = ANSWER_MARGIN_MS + 1_000;
    const t0 = Date.now();
    await handler(createEvent(), context(remaining));
    expect(Date.now() - t0).toBeLessThan(remaining - 5_000);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-slow' }]);
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    expect(answers[0]?.body.Reason).toMatch(/q-slow still RUNNING at the deadline/);
  }, 8_000);

  test('an Athena call that never returns still gets CloudFormation its FAILED answer in time', async () => {
    athena.on(StartQueryExecutionCommand).callsFake(() => new Promise(() => undefined));
    const remaining = ANSWER_MARGIN_MS + 500;
    const t0 = Date.now();
    await handler(createEvent(), context(remaining));
    expect(Date.now() - t0).toBeLessThan(remaining - 5_000);
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    expect(answers[0]?.body.Reason).toMatch(/deadline/);
  }, 8_000);

  test('Delete runs no Athena statement (its result files would refill the emptied results bucket) and answers SUCCESS with the physical id it was given', async () => {
    succeeding();
    await handler(deleteEvent(), context());
    expect(started()).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'athena-views:clickstream_dev' });
  });

  test("a Reason of any length keeps the answer under CloudFormation's 4,096-byte limit", async () => {
    athena.on(StartQueryExecutionCommand).rejects(new Error('x'.repeat(10_000)));
    await handler(createEvent(), context());
    const bytes = Buffer.byteLength(JSON.stringify(answers[0]?.body));
    expect(answers[0]?.body.Status).toBe('FAILED');
    expect(bytes).toBeLessThanOrEqual(4_096);
  });

  test('when the answer itself is refused, the invocation fails so Lambda retries it', async () => {
    succeeding();
    answerStatus = 403;
    await expect(handler(createEvent(), context())).rejects.toThrow(/ResponseURL answered 403/);
  });
});

describe('Custom::CompactionSeam (the same function): the seam-only compaction run after the views were re-created', () => {
  const { SFNClient, StartExecutionCommand } = require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn');
  const sfn = mockClient(SFNClient);
  const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:CompactionStateMachine-abc';
  const seamEvent = (type: 'Create' | 'Update' | 'Delete', requestId = common().RequestId): CloudFormationCustomResourceEvent =>
    ({
      ...common(),
      RequestId: requestId,
      LogicalResourceId: 'CompactionSeam',
      ResourceType: 'Custom::CompactionSeam',
      ResourceProperties: { ServiceToken: props().ServiceToken, StateMachine: STATE_MACHINE, Fingerprint: 'f1' },
      ...(type === 'Create'
        ? { RequestType: 'Create' }
        : type === 'Update'
          ? {
              RequestType: 'Update',
              PhysicalResourceId: 'compaction-seam',
              OldResourceProperties: { ServiceToken: props().ServiceToken, StateMachine: STATE_MACHINE, Fingerprint: 'f0' },
            }
          : { RequestType: 'Delete', PhysicalResourceId: 'compaction-seam' }),
    }) as CloudFormationCustomResourceEvent;
  const executions = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

  beforeEach(() => sfn.reset());

  test('Create and Update start the state machine with {"seamOnly": true}, named after the request, run no Athena statement, and answer SUCCESS', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:x`, startDate: new Date() });
    await handler(seamEvent('Create'), context());
    await handler(seamEvent('Update', 'b5a0c9de-0000-4000-8000-000000000002'), context());
    expect(executions().map((e) => [e.stateMachineArn, JSON.parse(e.input!)])).toEqual([
      [STATE_MACHINE, { seamOnly: true }],
      [STATE_MACHINE, { seamOnly: true }],
    ]);
    // A retried invocation of one request reuses its name (StartExecution is idempotent on name + input); two requests differ.
    expect(executions()[0]!.name).toMatch(/^deploy-seam-[0-9a-f]{40}$/);
    expect(executions()[0]!.name).not.toBe(executions()[1]!.name);
    expect(started()).toEqual([]);
    expect(answers.map((a) => [a.body.Status, a.body.PhysicalResourceId])).toEqual([
      ['SUCCESS', 'compaction-seam'],
      ['SUCCESS', 'compaction-seam'],
    ]);
  });

  test('a run that cannot be started does not fail the deploy (the views stay right, reading raw days); Delete starts nothing', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('ExecutionAlreadyExists'));
    await handler(seamEvent('Create'), context());
    sfn.reset();
    await handler(seamEvent('Delete'), context());
    expect(executions()).toEqual([]);
    expect(answers.map((a) => a.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });
});
