/**
 * The request body as API Gateway hands it over -> the checked envelope ({site_id, sent_at, events}),
 * or an HttpError that says what was wrong (413 too large, 415 content type, 400 unreadable). The
 * events themselves are checked one by one later (handlers/lib/validate.ts), so one bad event does
 * not cost the batch.
 */
import { LIMITS } from '../../schema/event';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import { checkEnvelope } from './validate';

export interface RequestBody {
  /** null is what API Gateway and serverless offline pass for an empty body. */
  body: string | null | undefined;
  isBase64Encoded?: boolean;
  contentType?: string;
}

// Content types a browser can send without a CORS preflight (text/plain) or that tools use.
// curl -d sends application/x-www-form-urlencoded unless told otherwise; the body is still our JSON.
const ACCEPTED_TYPES = new Set(['text/plain', 'application/json', 'application/x-www-form-urlencoded', '']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBody(input: RequestBody): string {
  const raw = input.body ?? '';
  if (!input.isBase64Encoded) {
    // A UTF-16 unit is at most 3 UTF-8 bytes: bodies under a third of the cap need no byte count.
    if (raw.length > LIMITS.maxBodyBytes || (raw.length * 3 > LIMITS.maxBodyBytes && Buffer.byteLength(raw) > LIMITS.maxBodyBytes))
      throw tooLarge();
    return raw;
  }
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length > LIMITS.maxBodyBytes) throw tooLarge();
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new BadRequestError('body is not valid UTF-8', { cause });
  }
}

const tooLarge = () => new PayloadTooLargeError(`body is larger than ${LIMITS.maxBodyBytes} bytes: send smaller batches`);

export function parseEnvelope(input: RequestBody) {
  const type = ((input.contentType ?? '').split(';')[0] ?? '').trim().toLowerCase();
  if (!ACCEPTED_TYPES.has(type))
    throw new UnsupportedMediaTypeError(`Content-Type ${type} is not accepted: send text/plain or application/json`);
  const text = decodeBody(input);
  if (text.trim() === '') throw new BadRequestError('body is empty: send {"site_id", "sent_at", "events": [...]}');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError(`body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new BadRequestError('body must be a JSON object with site_id, sent_at and events');
  const env = checkEnvelope(data);
  if (!env.ok) {
    if (env.reason.startsWith('too many events')) throw new PayloadTooLargeError(env.reason);
    throw new BadRequestError(env.reason);
  }
  return env.value;
}
