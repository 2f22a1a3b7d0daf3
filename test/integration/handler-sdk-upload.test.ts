/**
 * handlers/sdk-upload.ts, the Custom::SdkUpload provider, in process: S3 is mocked at the SDK client
 * (aws-sdk-client-mock); CloudFormation's pre-signed ResponseURL is a real HTTP server on 127.0.0.1.
 * The files are the ones the packaged template carries (scripts/cfn-edge.js sdkBuild), so what is
 * uploaded here is what a deploy uploads. Its refusals, S3 errors and Delete, with files made in
 * memory: test/unit/handler-sdk-upload-s3.test.ts.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ensureSdkBuilt } from '../../local/sdk-build';

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
const { handler } = require('../../handlers/sdk-upload') as typeof import('../../handlers/sdk-upload');
const edge = require('../../scripts/cfn-edge.js') as {
  readSdkBuild: () => {
    files: { name: string; Key: string; Body: string; ContentType: string; CacheControl: string; Integrity: string }[];
  };
};
// The files as the template carries them (scripts/cfn-sdk.js), and the path and integrity the
// SdkSnippet output names (scripts/cfn-edge.js sdkPath/sdkIntegrity read the same manifest).
ensureSdkBuilt(join(__dirname, '..', '..', 'client-sdk'));
const built = edge.readSdkBuild();
const snippet = built.files.find((f) => f.name === 'clickstream.min.js')!;

const s3 = mockClient(S3Client);
let server: Server;
let base: string;
let answers: Record<string, unknown>[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answers.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  s3.reset();
  answers = [];
});

const files = () =>
  built.files.map(({ Key, Body, ContentType, CacheControl, Integrity }) => ({ Key, Body, ContentType, CacheControl, Integrity }));
const props = (f = files()) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:clickstream-dev-sdkUpload',
  Bucket: 'clickstream-dev-sdkbucket-abc',
  Prefix: 'sdk/',
  Files: f,
});
const common = () => ({
  ServiceToken: props().ServiceToken,
  ResponseURL: `${base}/cloudformation-custom-resource-response?X-Amz-Signature=abc`,
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/clickstream-dev/0a1b2c3d',
  RequestId: 'b5a0c9de-0000-4000-8000-000000000002',
  LogicalResourceId: 'SdkUpload',
  ResourceType: 'Custom::SdkUpload',
});
const createEvent = (p = props()) => ({ ...common(), RequestType: 'Create', ResourceProperties: p }) as CloudFormationCustomResourceEvent;
const puts = (): PutObjectCommandInput[] => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

describe('Custom::SdkUpload', () => {
  test('Create: puts every built file under its hashed key, with its type, immutable caching and an S3-checked SHA-256; answers SUCCESS', async () => {
    s3.on(PutObjectCommand).resolves({});
    await handler(createEvent());
    const all = files();
    expect(puts().map((p) => p.Key)).toEqual(all.map((f) => f.Key));
    for (const [i, p] of puts().entries()) {
      const f = all[i]!;
      expect(p).toMatchObject({
        Bucket: 'clickstream-dev-sdkbucket-abc',
        Body: f.Body,
        ContentType: 'text/javascript; charset=utf-8',
        CacheControl: 'public, max-age=31536000, immutable',
        ChecksumAlgorithm: 'SHA256',
      });
      expect(p.ChecksumSHA256).toBe(createHash('sha256').update(f.Body).digest('base64'));
    }
    expect(answers).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'sdk-upload:clickstream-dev-sdkbucket-abc/sdk/' }),
    ]);
  });

  test("the snippet's script names an object this upload writes, and its integrity is that object's SRI hash", async () => {
    s3.on(PutObjectCommand).resolves({});
    await handler(createEvent());
    const path = `/${snippet.Key}`;
    const put = puts().find((p) => `/${p.Key}` === path);
    expect(put).toBeDefined();
    const sri = `sha384-${createHash('sha384').update(String(put?.Body)).digest('base64')}`;
    expect(snippet.Integrity).toBe(sri);
    // The hashed name is derived from those bytes too: another build, another name.
    expect(path).toMatch(/^\/sdk\/clickstream\.[0-9a-f]{16}\.min\.js$/);
  });
});
