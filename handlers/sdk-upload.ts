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
import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { deletePrefix, putObject } from './clients/s3';
import { respond, type Outcome } from './clients/cloudformation';

export interface SdkFile { Key: string; Body: string; ContentType: string; CacheControl: string; Integrity: string }
interface UploadProps { Bucket: string; Prefix: string; Files: SdkFile[] }

export class SdkUploadError extends Error {
  override name = 'SdkUploadError';
}

const logger = new Logger({ serviceName: 'clickstream-sdk-upload' });

/** Subresource Integrity (W3C SRI) of `body`, in the algorithm `integrity` names (sha256/384/512). */
export function integrityOf(body: string, integrity: string): string {
  const alg = /^(sha256|sha384|sha512)-/.exec(integrity)?.[1];
  if (!alg) throw new SdkUploadError(`unsupported integrity "${integrity.slice(0, 20)}"`);
  return `${alg}-${createHash(alg).update(body, 'utf8').digest('base64')}`;
}

/** Every file checked before any is uploaded: a bad file must not leave half a release behind. */
function checked(p: UploadProps): SdkFile[] {
  if (!p.Bucket || !p.Prefix?.endsWith('/')) throw new SdkUploadError('Bucket and a Prefix ending in "/" are required');
  if (!Array.isArray(p.Files) || p.Files.length === 0) throw new SdkUploadError('no Files to upload (scripts/cfn-sdk.js fills them at package time)');
  for (const f of p.Files) {
    // The role may only write below the prefix; a key outside it is a packaging error, said plainly.
    if (!f.Key.startsWith(p.Prefix) || f.Key.includes('..')) throw new SdkUploadError(`key ${f.Key} is outside ${p.Prefix}`);
    if (integrityOf(f.Body, f.Integrity) !== f.Integrity) throw new SdkUploadError(`${f.Key}: bytes do not match their integrity ${f.Integrity}`);
  }
  return p.Files;
}

async function apply(event: CloudFormationCustomResourceEvent): Promise<void> {
  const p = event.ResourceProperties as unknown as UploadProps;
  if (event.RequestType === 'Delete') {
    const n = await deletePrefix(p.Bucket, p.Prefix);
    logger.info('SDK files deleted', { bucket: p.Bucket, prefix: p.Prefix, deleted: n });
    return;
  }
  for (const f of checked(p)) {
    await putObject(p.Bucket, {
      Key: f.Key, Body: f.Body, ContentType: f.ContentType, CacheControl: f.CacheControl,
      ChecksumSHA256: createHash('sha256').update(f.Body, 'utf8').digest('base64'),
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
