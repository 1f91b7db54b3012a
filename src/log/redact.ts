/**
 * Redaction for every string that leaves the m3ter client (error messages, log lines).
 *
 * Two layers: generic patterns that catch credentials whatever their origin (Authorization
 * schemes, JWTs, OAuth fields, signed URL query strings), and a registry of exact secret strings
 * known at runtime (./secrets.ts), because a secret can appear in a shape no pattern anticipates
 * (e.g. echoed back inside a server's error message).
 */
import { processSecrets, SecretRegistry } from './secrets';

export const REDACTED = '<redacted>';

// Names of fields whose value is a credential, in JSON (`"routing_key": "..."`), form or query encodings.
const FIELD =
  '(?:access_token|refresh_token|id_token|client_secret|api_?secret|password|routing_?key|integration_key|' +
  'service_key|aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token|secret)';
// Query parameters that sign a URL (S3, GCS, Azure), wherever they appear, even without their URL.
const SIGNING =
  '(?:X-Amz-(?:Signature|Credential|Security-Token)|X-Goog-(?:Signature|Credential)|Signature|sig)';
// `//` as written or JSON-escaped (`:\/\/`).
const SLASHES = '(?:\\\\?\\/){2}';

// Compiled once: redaction runs on every log line.
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization header values, whatever casing or quoting surrounds them.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  // JWT-shaped strings (header.payload[.signature]); m3ter access tokens are RS256 JWTs.
  [/\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g, REDACTED],
  // Slack tokens (bot, user, app and refresh), which start with a fixed prefix.
  [/\bxox[abeprs]-[A-Za-z0-9-]{8,}/g, REDACTED],
  // URLs first: a pattern below replacing a piece of a query would end the URL match early.
  // A percent-encoded URL (a presigned URL inside another URL's query): its own query goes.
  [/\b(https?%3A%2F%2F[A-Za-z0-9._~!*'()%-]*?)%3F[A-Za-z0-9._~!*'()%+-]*/gi, `$1%3F${REDACTED}`],
  // Slack incoming webhooks carry their token in the path.
  [new RegExp(`\\b(https?:${SLASHES}hooks\\.slack(?:-gov)?\\.com\\\\?/)[^\\s"'<>]+`, 'gi'), `$1${REDACTED}`],
  // Any absolute URL carrying a query string or fragment: presigned URLs put their signature
  // and credentials there, so the whole query goes; scheme, host and path stay for debugging.
  [new RegExp(`\\b(https?:${SLASHES}[^\\s"'<>?#]*)[?#][^\\s"'<>]*`, 'gi'), `$1?${REDACTED}`],
  // Userinfo in URLs (https://user:pass@host).
  [new RegExp(`\\b(https?:${SLASHES})[^\\s"'<>/@\\\\]+@`, 'gi'), `$1${REDACTED}@`],
  // Credential fields in JSON (quotes possibly JSON-escaped) need a quoted value, form/query fields a bare
  // one: prose such as "M3TER_API_SECRET: is required" must survive untouched.
  [new RegExp(`(${FIELD}(?:\\\\?["'])?\\s*:\\s*\\\\?["'])[^"'\\\\]*`, 'gi'), `$1${REDACTED}`],
  [new RegExp(`\\b(${FIELD}=)[^&\\s"'<>\\\\]+`, 'gi'), `$1${REDACTED}`],
  // Environment-style assignments: M3TER_API_SECRET=..., TEMPORAL_API_KEY=...
  [
    /\b([A-Z][A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|API_KEY|ACCESS_KEY|ROUTING_KEY)[A-Z0-9_]*=)[^\s"'&]+/g,
    `$1${REDACTED}`,
  ],
  // Signing parameters, plain or percent-encoded, with or without their URL.
  [new RegExp(`\\b(${SIGNING}(?:=|%3D))[^&\\s"'<>\\\\]+`, 'gi'), `$1${REDACTED}`],
];

/**
 * Redacts credential-shaped substrings, every secret registered with the process (./secrets.ts) and the
 * given extra ones from `text`.
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = String(text);
  // Explicit secrets first: a secret may itself contain characters the patterns would split on,
  // which would leave a fragment of it behind.
  const extra = [...secrets];
  if (extra.length > 0) {
    const local = new SecretRegistry();
    for (const s of extra) local.add(s);
    const m = local.matcher();
    if (m) out = out.replace(m, REDACTED);
  }
  const known = processSecrets.matcher();
  if (known) out = out.replace(known, REDACTED);
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/**
 * Keeps scheme, host and path of a URL and replaces its whole query (and fragment) with
 * `?<redacted>`; credentials in the userinfo part are dropped. Unparseable input falls back to
 * pattern redaction so that this never throws and never returns the original unchecked.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hadQuery = u.search !== '' || u.hash !== '' || url.includes('?');
    const userinfo = u.username || u.password ? `${REDACTED}@` : '';
    return `${u.protocol}//${userinfo}${u.host}${u.pathname}${hadQuery ? `?${REDACTED}` : ''}`;
  } catch {
    return redact(url);
  }
}

/** Registers secrets with the process registry and redacts with it; one per client. */
export class Redactor {
  constructor(initial: Iterable<string> = []) {
    for (const s of initial) this.add(s);
  }

  /** A long-lived secret (the API secret, its Basic pair). */
  add(secret: string | undefined | null): void {
    processSecrets.add(secret);
  }

  /** A short-lived secret (an access token): only the newest few are kept. */
  addToken(token: string | undefined | null): void {
    processSecrets.addToken(token);
  }

  redact(text: string): string {
    return redact(text);
  }

  /** Deep-redacts every string inside a JSON-like value (for structured log objects). */
  redactValue<T>(value: T): T {
    return redactDeep(value, redact, 0) as T;
  }
}

/** Keys whose value is a credential whatever it looks like. */
export const CREDENTIAL_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|access_token|refresh_token|apiSecret|api_secret|secret|password|token|routingKey|routing_key|aws_secret_access_key|secretAccessKey|sessionToken)$/i;
const MAX_DEPTH = 32;

/**
 * Deep-redacts strings in any value: credential keys masked, Errors turned into their name, message, stack,
 * code and (redacted) cause chain, anything deeper than MAX_DEPTH replaced, so no path returns a raw value.
 */
export function redactDeep(value: unknown, fn: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return fn(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[depth limit]';
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      message: fn(value.message),
      ...(value.stack ? { stack: fn(value.stack) } : {}),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(value.cause !== undefined ? { cause: redactDeep(value.cause, fn, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, fn, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = CREDENTIAL_KEY.test(k) ? REDACTED : redactDeep(v, fn, depth + 1);
  }
  return out;
}
