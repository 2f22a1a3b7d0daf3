/**
 * Custom::SdkUpload (serverless.yml): the deploy itself publishes the built browser SDK to the
 * private SDK bucket that CloudFront serves, so no one runs `aws s3 cp`. The files come in the
 * resource's properties (scripts/cfn-sdk.js fills them from client-sdk/dist at package time), each
 * with the SRI hash the SdkSnippet output names; a file whose bytes do not match its hash is refused.
 *
 * Create/Update upload every file under its content-hashed key. An update keeps the older files:
 * pages cached with an older snippet still load the exact bytes their integrity names. Delete
 * (stack removal, or the bucket replaced) empties the prefix so CloudFormation can delete the
 * bucket; it always answers SUCCESS, as a failed delete would block removing the stack.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { deletePrefix, putObject } from './clients/s3';
import { respond, type Outcome } from './clients/cloudformation';
import { checkedFiles, sha256Base64, type UploadProps } from './lib/sdk-files';

export { integrityOf, SdkUploadError, type SdkFile } from './lib/sdk-files';

const logger = new Logger({ serviceName: 'clickstream-sdk-upload' });

async function apply(event: CloudFormationCustomResourceEvent): Promise<void> {
  const p = event.ResourceProperties as unknown as UploadProps;
  if (event.RequestType === 'Delete') {
    const n = await deletePrefix(p.Bucket, p.Prefix);
    logger.info('SDK files deleted', { bucket: p.Bucket, prefix: p.Prefix, deleted: n });
    return;
  }
  for (const f of checkedFiles(p)) {
    await putObject(p.Bucket, {
      Key: f.Key,
      Body: f.Body,
      ContentType: f.ContentType,
      CacheControl: f.CacheControl,
      ChecksumSHA256: sha256Base64(f.Body),
    });
  }
  logger.info('SDK files uploaded', { bucket: p.Bucket, keys: p.Files.map((f) => f.Key) });
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const p = event.ResourceProperties as unknown as UploadProps;
  // Another bucket or prefix is another resource: CloudFormation then deletes the old one (Delete above).
  const physicalResourceId = event.RequestType === 'Delete' ? event.PhysicalResourceId : `sdk-upload:${p.Bucket}/${p.Prefix}`;
  let outcome: Outcome;
  try {
    await apply(event);
    outcome = { status: 'SUCCESS', physicalResourceId };
  } catch (err) {
    logger.error('SDK upload failed', { requestType: event.RequestType, err: String(err) });
    outcome = { status: event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED', physicalResourceId, reason: String(err) };
  }
  // A failed answer throws: Lambda retries the (idempotent) invocation.
  await respond(event, outcome);
}
