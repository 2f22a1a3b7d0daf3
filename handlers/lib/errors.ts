/**
 * Errors that map to HTTP answers. A 4xx says precisely what was wrong with the request; the SDK
 * drops 4xx (other than 429) and retries 5xx, so the codes are part of the wire contract.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
export class BadRequestError extends HttpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, message, options);
  }
}
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}
export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, message);
  }
}
export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, message);
  }
}
/** Configuration is wrong: fails the cold start, never a request. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
