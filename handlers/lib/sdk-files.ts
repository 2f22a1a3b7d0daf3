/**
 * The SDK files Custom::SdkUpload publishes (handlers/sdk-upload.ts), checked before any is
 * uploaded: each below the prefix, each byte-for-byte what its Subresource Integrity hash names.
 */
import { createHash } from 'node:crypto';

export interface SdkFile {
  Key: string;
  Body: string;
  ContentType: string;
  CacheControl: string;
  Integrity: string;
}
export interface UploadProps {
  Bucket: string;
  Prefix: string;
  Files: SdkFile[];
}

export class SdkUploadError extends Error {
  override name = 'SdkUploadError';
}

/** Subresource Integrity (W3C SRI) of `body`, in the algorithm `integrity` names (sha256/384/512). */
export function integrityOf(body: string, integrity: string): string {
  const alg = /^(sha256|sha384|sha512)-/.exec(integrity)?.[1];
  if (!alg) throw new SdkUploadError(`unsupported integrity "${integrity.slice(0, 20)}"`);
  return `${alg}-${createHash(alg).update(body, 'utf8').digest('base64')}`;
}

/** Every file checked before any is uploaded: a bad file must not leave half a release behind. */
export function checkedFiles(p: UploadProps): SdkFile[] {
  if (!p.Bucket || !p.Prefix?.endsWith('/')) throw new SdkUploadError('Bucket and a Prefix ending in "/" are required');
  if (!Array.isArray(p.Files) || p.Files.length === 0)
    throw new SdkUploadError('no Files to upload (scripts/cfn-sdk.js fills them at package time)');
  for (const f of p.Files) {
    // The role may only write below the prefix; a key outside it is a packaging error, said plainly.
    if (!f.Key.startsWith(p.Prefix) || f.Key.includes('..')) throw new SdkUploadError(`key ${f.Key} is outside ${p.Prefix}`);
    if (integrityOf(f.Body, f.Integrity) !== f.Integrity)
      throw new SdkUploadError(`${f.Key}: bytes do not match their integrity ${f.Integrity}`);
  }
  return p.Files;
}

/** The SHA-256 S3 checks the upload against (base64, as x-amz-checksum-sha256 carries it). */
export const sha256Base64 = (body: string) => createHash('sha256').update(body, 'utf8').digest('base64');
