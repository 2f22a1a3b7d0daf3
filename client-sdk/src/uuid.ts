/**
 * UUID v7 (RFC 9562): 48-bit millisecond time, then random bits. Time-ordered ids keep the
 * server's de-duplication index and S3 objects roughly sorted, and the schema accepts v7 or v4.
 */
export function uuid(now: number = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 5; i >= 0; i--, now = Math.floor(now / 256)) b[i] = now % 256;
  b[6] = (b[6]! & 15) | 112;
  b[8] = (b[8]! & 63) | 128;
  let h = '';
  for (const x of b) h += (x + 256).toString(16).slice(1);
  return h.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}
