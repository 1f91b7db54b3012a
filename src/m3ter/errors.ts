import { redact } from '../log/redact';

/** m3ter's own words in an error: enough to act on, never a flood of text in logs, history or alerts. */
export const MAX_M3TER_MESSAGE_LENGTH = 500;
/** Our message around it (method, path, status, m3ter's message, request id). */
const MAX_ERROR_MESSAGE_LENGTH = 1000;

// ANSI escape sequences (CSI and OSC), other control characters, and bidirectional overrides that could
// make a terminal or a log viewer show something other than what was sent. Matching control characters is
// the point of these two patterns.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
const CONTROL = /[\p{Cc}\u200b-\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/** Text from outside made safe to show: escapes and control characters removed, whitespace folded, capped. */
export function cleanText(text: string, max: number = MAX_M3TER_MESSAGE_LENGTH): string {
  const t = String(text).replace(ANSI, '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** One validation problem: a dotted/bracketed field path (`data[3].status`) and the rule it broke. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export interface M3terErrorInit {
  status?: number;
  m3terMessage?: string;
  requestId?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  method?: string;
  path?: string;
  attempts?: number;
  /**
   * True when the request may have reached m3ter and been acted on before the failure (a 5xx,
   * a timeout, a connection dropped after sending). Callers of non-idempotent endpoints
   * (ad-hoc export) need this to avoid creating a second job.
   */
  mayHaveBeenProcessed?: boolean;
  /** Already sanitized (no axios objects, no headers); see `sanitizeCause`. */
  cause?: unknown;
}

/**
 * Base of every error the client throws. Everything on it is safe to log or put into workflow
 * history: the message is redacted at construction, `path` never carries a query string, and no
 * axios error/config/request (which hold the Authorization header) is ever attached.
 */
export class M3terError extends Error {
  readonly status?: number;
  readonly m3terMessage?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly method?: string;
  readonly path?: string;
  /** Attempts made (including the first) before this error was thrown. */
  attempts?: number;
  readonly mayHaveBeenProcessed: boolean;

  constructor(message: string, init: M3terErrorInit = {}) {
    super(
      cleanText(redact(message), MAX_ERROR_MESSAGE_LENGTH),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = new.target.name;
    this.status = init.status;
    this.m3terMessage = init.m3terMessage === undefined ? undefined : cleanText(redact(init.m3terMessage));
    this.requestId = init.requestId === undefined ? undefined : cleanText(init.requestId, 128);
    this.retryable = init.retryable ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.method = init.method;
    this.path = init.path === undefined ? undefined : stripQuery(init.path);
    this.attempts = init.attempts;
    this.mayHaveBeenProcessed = init.mayHaveBeenProcessed ?? false;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const key of [
      'status',
      'm3terMessage',
      'requestId',
      'retryable',
      'retryAfterMs',
      'method',
      'path',
      'attempts',
      'mayHaveBeenProcessed',
    ] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    if (this.cause !== undefined) out.cause = this.cause;
    return out;
  }
}

export class M3terApiError extends M3terError {}
export class M3terBadRequestError extends M3terApiError {}
export class M3terAuthenticationError extends M3terApiError {}
export class M3terPermissionDeniedError extends M3terApiError {}
export class M3terNotFoundError extends M3terApiError {}
export class M3terConflictError extends M3terApiError {}
export class M3terUnprocessableError extends M3terApiError {}
export class M3terRateLimitError extends M3terApiError {}
export class M3terServerError extends M3terApiError {}
export class M3terConnectionError extends M3terError {}
export class M3terTimeoutError extends M3terConnectionError {}

abstract class M3terValidationError extends M3terError {
  readonly issues: ValidationIssue[];
  constructor(prefix: string, issues: ValidationIssue[], init: M3terErrorInit = {}) {
    super(`${prefix}: ${formatIssues(issues)}`, { ...init, retryable: false });
    this.issues = issues.map((i) => ({ path: i.path, message: redact(i.message) }));
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The request was refused locally, before any HTTP call. */
export class M3terRequestValidationError extends M3terValidationError {}
/** m3ter answered 2xx with a body that does not match its schema. */
export class M3terResponseValidationError extends M3terValidationError {}
/** m3ter's answer was larger than the call's cap (docs/security.md); read no further. */
export class M3terResponseTooLargeError extends M3terResponseValidationError {}

export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

function stripQuery(path: string): string {
  const i = path.search(/[?#]/);
  return i === -1 ? path : path.slice(0, i);
}

/** Maps an HTTP status to its error class. */
export function errorClassForStatus(
  status: number,
): new (message: string, init?: M3terErrorInit) => M3terApiError {
  switch (status) {
    case 400:
      return M3terBadRequestError;
    case 401:
      return M3terAuthenticationError;
    case 403:
      return M3terPermissionDeniedError;
    case 404:
      return M3terNotFoundError;
    case 409:
      return M3terConflictError;
    case 422:
      return M3terUnprocessableError;
    case 429:
      return M3terRateLimitError;
    default:
      return status >= 500 ? M3terServerError : M3terApiError;
  }
}

export function isM3terError(e: unknown): e is M3terError {
  return e instanceof M3terError;
}
