/**
 * handlers/sdk-upload.ts, the Custom::SdkUpload provider, in process and in memory: S3 is mocked at
 * the SDK client (aws-sdk-client-mock), the files are made here (their SRI and checksums computed
 * with node:crypto), and fetch is replaced by a stub that records the answer to the pre-signed
 * ResponseURL (CloudFormation user guide, "Custom resource response objects"). The same handler with
 * the files of a real SDK build and a real HTTP ResponseURL: test/integration/handler-sdk-upload.test.ts.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
const { handler, integrityOf } = require('../../handlers/sdk-upload') as typeof import('../../handlers/sdk-upload');

const s3 = mockClient(S3Client);
let answers: Record<string, unknown>[];

beforeEach(() => {
  s3.reset();
  answers = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    answers.push(JSON.parse(await new Request(input, init).text()) as Record<string, unknown>);
    return new Response('', { status: 200 });
  });
});
afterEach(() => jest.restoreAllMocks());

const sri = (body: string) => `sha384-${createHash('sha384').update(body, 'utf8').digest('base64')}`;
const file = (Key: string, Body: string) => ({
  Key,
  Body,
  ContentType: 'text/javascript; charset=utf-8',
  CacheControl: 'public, max-age=31536000, immutable',
  Integrity: sri(Body),
});
const files = () => [
  file('sdk/clickstream.0123456789abcdef.min.js', 'window.cs=1;'),
  file('sdk/loader.fedcba9876543210.js', '(function(){})();/* ü */'),
];
const props = (f = files()) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:clickstream-dev-sdkUpload',
  Bucket: 'clickstream-dev-sdkbucket-abc',
  Prefix: 'sdk/',
  Files: f,
});
const common = () => ({
  ServiceToken: props().ServiceToken,
  ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/clickstream-dev/0a1b2c3d',
  RequestId: 'b5a0c9de-0000-4000-8000-000000000002',
  LogicalResourceId: 'SdkUpload',
  ResourceType: 'Custom::SdkUpload',
});
const createEvent = (p = props()) => ({ ...common(), RequestType: 'Create', ResourceProperties: p }) as CloudFormationCustomResourceEvent;
const deleteEvent = (p = props()) =>
  ({
    ...common(),
    RequestType: 'Delete',
    PhysicalResourceId: 'sdk-upload:clickstream-dev-sdkbucket-abc/sdk/',
    ResourceProperties: p,
  }) as CloudFormationCustomResourceEvent;
const puts = (): PutObjectCommandInput[] => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('Custom::SdkUpload', () => {
  test('Create: puts every file under its key, with its type, immutable caching and an S3-checked SHA-256; answers SUCCESS', async () => {
    s3.on(PutObjectCommand).resolves({});
    await handler(createEvent());
    const all = files();
    expect(puts().map((p) => p.Key)).toEqual(all.map((f) => f.Key));
    for (const [i, p] of puts().entries()) {
      const f = all[i];
      expect(p).toMatchObject({
        Bucket: 'clickstream-dev-sdkbucket-abc',
        Body: f?.Body,
        ContentType: 'text/javascript; charset=utf-8',
        CacheControl: 'public, max-age=31536000, immutable',
        ChecksumAlgorithm: 'SHA256',
      });
      expect(p.ChecksumSHA256).toBe(
        createHash('sha256')
          .update(f?.Body ?? '', 'utf8')
          .digest('base64'),
      );
    }
    expect(answers).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'sdk-upload:clickstream-dev-sdkbucket-abc/sdk/',
        RequestId: common().RequestId,
      }),
    ]);
  });

  test('a file whose bytes do not match its integrity is refused before anything is uploaded (FAILED)', async () => {
    s3.on(PutObjectCommand).resolves({});
    const bad = files();
    bad[1] = { ...file('sdk/loader.fedcba9876543210.js', 'x'), Body: 'x/* tampered */' };
    await handler(createEvent(props(bad)));
    expect(puts()).toEqual([]);
    expect(answers[0]).toMatchObject({ Status: 'FAILED' });
    expect(String(answers[0]?.Reason)).toMatch(/do not match their integrity/);
  });

  test('a key outside the prefix (the role could not write it) fails with that reason', async () => {
    const f = files();
    f[0] = file('other/x.js', 'x');
    await handler(createEvent(props(f)));
    expect(puts()).toEqual([]);
    expect(answers[0]).toMatchObject({ Status: 'FAILED' });
    expect(String(answers[0]?.Reason)).toMatch(/outside sdk\//);
  });

  test('an S3 error answers FAILED with its message, not a hung stack', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await handler(createEvent());
    expect(answers[0]).toMatchObject({ Status: 'FAILED' });
    expect(String(answers[0]?.Reason)).toMatch(/Access Denied/);
  });

  test('Delete empties sdk/ page by page (so the bucket can be deleted) and answers SUCCESS', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'sdk/a.js' }, { Key: 'sdk/b.js' }],
      IsTruncated: true,
      NextContinuationToken: 't2',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 't2' }).resolves({ Contents: [{ Key: 'sdk/c.js' }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({});
    await handler(deleteEvent());
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual(['sdk/', 'sdk/']);
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects?.map((o) => o.Key))).toEqual([
      ['sdk/a.js', 'sdk/b.js'],
      ['sdk/c.js'],
    ]);
    expect(answers[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'sdk-upload:clickstream-dev-sdkbucket-abc/sdk/' });
  });

  test('Delete answers SUCCESS even when S3 fails (a failed delete would block removing the stack)', async () => {
    s3.on(ListObjectsV2Command).rejects(new Error('boom'));
    await handler(deleteEvent());
    expect(answers[0]).toMatchObject({ Status: 'SUCCESS' });
  });

  test('integrityOf: W3C SRI strings in the algorithm named; unknown ones refused', () => {
    expect(integrityOf('alert(1)', 'sha256-x')).toBe(`sha256-${createHash('sha256').update('alert(1)').digest('base64')}`);
    expect(integrityOf('alert(1)', 'sha384-x')).toBe(sri('alert(1)'));
    expect(() => integrityOf('x', 'md5-abc')).toThrow(/unsupported integrity/);
  });
});
