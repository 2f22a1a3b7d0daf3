/**
 * The one place the deploy-time SDK upload function talks to S3 (Custom::SdkUpload). Created once
 * at module scope, like the Firehose and Athena clients.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const s3 = new S3Client({
  // Lambda hands the role's credentials in the environment; the bundle stubs the default provider
  // chain (scripts/esbuild-plugins.js).
  credentials: fromEnv(),
  // Bound every call, so the function always answers CloudFormation before its own timeout.
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
});

export interface UploadObject {
  Key: string;
  Body: string;
  ContentType: string;
  CacheControl: string;
  /** base64 SHA-256 of Body: S3 recomputes it and refuses the PUT on a mismatch (bytes damaged on the way). */
  ChecksumSHA256: string;
}

export async function putObject(bucket: string, o: UploadObject): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, ...o, ChecksumAlgorithm: 'SHA256' }));
}

/** Deletes every object under `prefix`; returns how many. DeleteObjects takes at most 1,000 keys, as ListObjectsV2 returns. */
export async function deletePrefix(bucket: string, prefix: string): Promise<number> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length) {
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      if (out.Errors?.length)
        throw new Error(`DeleteObjects failed for ${out.Errors.length} keys, first ${out.Errors[0]?.Key}: ${out.Errors[0]?.Code}`);
      deleted += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}
