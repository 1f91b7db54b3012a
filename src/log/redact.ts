/**
 * Redaction for every string that leaves the m3ter client (error messages, log lines).
 *
 * Two layers: generic patterns that catch credentials whatever their origin (Authorization
 * schemes, JWTs, OAuth fields, signed URL query strings), and a registry of exact secret strings
 * known at runtime (the API secret, each access token received), because a secret can appear
 * in a shape no pattern anticipates (e.g. echoed back inside a server's error message).
 */

export const REDACTED = '<redacted>';

// Secrets shorter than this are not registered: replacing every "a" or "12" in a message would
// destroy it while protecting nothing an attacker could not guess anyway.
const MIN_SECRET_LENGTH = 4;

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization header values, whatever casing or quoting surrounds them.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  // JWT-shaped strings (header.payload[.signature]); m3ter access tokens are RS256 JWTs.
  [/\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g, REDACTED],
  // OAuth / credential fields in JSON, form bodies or query strings.
  // JSON form ("access_token": "...") needs a quoted value, form/query form (access_token=...)
  // a bare one; prose such as "M3TER_API_SECRET: is required" must survive untouched.
  [
    /((?:access_token|refresh_token|id_token|client_secret|api_?secret|password)["']?\s*:\s*["'])[^"']*/gi,
    `$1${REDACTED}`,
  ],
  [
    /\b((?:access_token|refresh_token|id_token|client_secret|api_?secret|password)=)[^&\s"'<>]+/gi,
    `$1${REDACTED}`,
  ],
  // Any absolute URL carrying a query string or fragment: presigned URLs put their signature
  // and credentials there, so the whole query goes; scheme, host and path stay for debugging.
  [/\b(https?:\/\/[^\s"'<>?#]*)[?#][^\s"'<>]*/gi, `$1?${REDACTED}`],
  // Userinfo in URLs (https://user:pass@host).
  [/\b(https?:\/\/)[^\s"'<>/@]+@/gi, `$1${REDACTED}@`],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Redacts credential-shaped substrings and every given secret from `text`. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = String(text);
  // Explicit secrets first: a secret may itself contain characters the patterns would split on,
  // which would leave a fragment of it behind.
  const sorted = [...new Set(secrets)]
    .filter((s) => s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const s of sorted) {
    out = out.replace(new RegExp(escapeRegExp(s), 'g'), REDACTED);
    const encoded = encodeURIComponent(s);
    if (encoded !== s) out = out.replace(new RegExp(escapeRegExp(encoded), 'g'), REDACTED);
  }
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

/** A set of runtime secrets plus the generic patterns; one per client. */
export class Redactor {
  private readonly secrets = new Set<string>();

  constructor(initial: Iterable<string> = []) {
    for (const s of initial) this.add(s);
  }

  add(secret: string | undefined | null): void {
    if (secret && secret.length >= MIN_SECRET_LENGTH) this.secrets.add(secret);
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** Deep-redacts every string inside a JSON-like value (for structured log objects). */
  redactValue<T>(value: T): T {
    return redactDeep(value, (s) => this.redact(s), 0) as T;
  }
}

function redactDeep(value: unknown, fn: (s: string) => string, depth: number): unknown {
  if (typeof value === 'string') return fn(value);
  if (value === null || typeof value !== 'object') return value;
  // Log objects are shallow; the bound only protects against cycles.
  if (depth > 8) return '[depth limit]';
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, fn, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = /^(authorization|cookie|set-cookie|x-api-key|access_token|apiSecret|api_secret)$/i.test(k)
      ? REDACTED
      : redactDeep(v, fn, depth + 1);
  }
  return out;
}
