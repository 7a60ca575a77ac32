// The typed error of every apiserver answer other than 2xx, and the predicates controllers branch
// on (`isNotFound`, `isConflict`, ...), as client-go's apierrors offers them.
import { isRecord, type Status, type StatusCause } from './types.js';

/** An apiserver answer other than 2xx, with the Status it sent (if any) parsed. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** HTTP status code (also the Status `code`). */
  readonly code: number;
  /** Status `reason`: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired, Gone, ... */
  readonly reason: string;
  /** The apiserver's own message, without our request prefix. */
  readonly apiMessage: string;
  readonly status: Status | undefined;
  readonly method: string;
  readonly path: string;
  /** Seconds the apiserver asked us to wait (429, some 5xx), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    code: number;
    reason: string;
    message: string;
    status?: Status;
    method: string;
    path: string;
    retryAfterSeconds?: number;
  }) {
    super(`${init.method} ${init.path}: ${init.code} ${init.reason}: ${init.message}`);
    this.code = init.code;
    this.reason = init.reason;
    this.apiMessage = init.message;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Field-level causes ("spec.replicas: Invalid value ..."), for showing a user what to fix. */
  get causes(): StatusCause[] {
    return this.status?.details?.causes ?? [];
  }
}

const apiError = (error: unknown): KubeApiError | undefined => (error instanceof KubeApiError ? error : undefined);
export const isNotFound = (error: unknown): boolean => apiError(error)?.code === 404;
export const isConflict = (error: unknown): boolean => apiError(error)?.code === 409 && apiError(error)?.reason !== 'AlreadyExists';
export const isAlreadyExists = (error: unknown): boolean => apiError(error)?.reason === 'AlreadyExists';
export const isUnauthorized = (error: unknown): boolean => apiError(error)?.code === 401;
export const isForbidden = (error: unknown): boolean => apiError(error)?.code === 403;
export const isInvalid = (error: unknown): boolean => apiError(error)?.code === 422;
/** 410 Gone / Expired: a resourceVersion or continue token too old to serve; relist. */
export const isGone = (error: unknown): boolean => {
  const e = apiError(error);
  return e !== undefined && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');
};
export const isTooManyRequests = (error: unknown): boolean => apiError(error)?.code === 429;

/** Parses an error body into a KubeApiError; bodies that are not a Status still give a code. */
export function errorFromResponse(method: string, path: string, code: number, body: string, retryAfter?: string): KubeApiError {
  let status: Status | undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (isRecord(parsed) && parsed.kind === 'Status') status = parsed;
  } catch {
    // not JSON (a proxy's HTML page, "Unauthorized" text): keep the raw text as the message
  }
  const retry = status?.details?.retryAfterSeconds ?? (retryAfter !== undefined ? Number(retryAfter) : undefined);
  return new KubeApiError({
    code: status?.code ?? code,
    reason: status?.reason ?? defaultReason(code),
    message: status?.message ?? (body.trim().slice(0, 500) || defaultReason(code)),
    method,
    path,
    ...(status ? { status } : {}),
    ...(retry !== undefined && Number.isFinite(retry) ? { retryAfterSeconds: retry } : {}),
  });
}

function defaultReason(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Gone',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}
