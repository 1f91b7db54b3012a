// Every secret the process knows, in one registry that every redaction consults: the API secret and its
// Basic pair, access tokens, alert channel URLs (and their paths), routing keys, HMAC secrets, S3
// credentials. A secret can turn up in a shape no pattern anticipates (echoed in a server's error message),
// so the literal values are replaced wherever they appear, as written, URL-encoded or JSON-escaped.
//
// Bounded: access tokens are kept in a short FIFO (a replaced token has expired soon after), the rest up to
// a generous cap. The matcher is compiled once per change, not per call.

const MIN_SECRET_LENGTH = 4;
const MAX_LASTING = 256;
const MAX_TOKENS = 32;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret takes in text: as is, URL-encoded, JSON-escaped. */
function variants(s: string): string[] {
  const out = new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]);
  return [...out];
}

export class SecretRegistry {
  private readonly lasting = new Set<string>();
  private readonly tokens: string[] = [];
  private compiled: RegExp | null | undefined;

  /** Registers a long-lived secret; returns false when it is too short to be meaningful. */
  add(secret: string | undefined | null): boolean {
    if (!secret || secret.length < MIN_SECRET_LENGTH || this.lasting.has(secret)) return false;
    if (this.lasting.size >= MAX_LASTING) this.lasting.delete(this.lasting.values().next().value as string);
    this.lasting.add(secret);
    this.compiled = undefined;
    return true;
  }

  /** Registers a short-lived secret (an access token); only the newest few are kept. */
  addToken(token: string | undefined | null): void {
    if (!token || token.length < MIN_SECRET_LENGTH || this.tokens.includes(token)) return;
    this.tokens.push(token);
    if (this.tokens.length > MAX_TOKENS) this.tokens.shift();
    this.compiled = undefined;
  }

  get size(): number {
    return this.lasting.size + this.tokens.length;
  }

  /** One alternation of every form of every secret, longest first (so no fragment is left behind). */
  matcher(): RegExp | null {
    if (this.compiled !== undefined) return this.compiled;
    const all = [...new Set([...this.lasting, ...this.tokens].flatMap(variants))].sort(
      (a, b) => b.length - a.length,
    );
    this.compiled = all.length === 0 ? null : new RegExp(all.map(escapeRegExp).join('|'), 'g');
    return this.compiled;
  }
}

/** The process's registry: loggers, errors and alert payloads all redact with it. */
export const processSecrets = new SecretRegistry();

/** Registers secrets with the process; an URL also registers its path and query (tokens live there). */
export function registerSecrets(values: Iterable<string | undefined | null>): void {
  for (const v of values) {
    if (!v) continue;
    processSecrets.add(v);
    let u: URL | undefined;
    try {
      u = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? new URL(v) : undefined;
    } catch {
      u = undefined;
    }
    if (!u) continue;
    if (u.pathname.length >= 12) processSecrets.add(u.pathname);
    if (u.search.length > 1) processSecrets.add(u.search.slice(1));
    if (u.password) processSecrets.add(u.password);
  }
}

/** Credentials the process may hold in its environment without reading them itself (the AWS SDK does). */
const ENV_SECRETS = ['M3TER_API_SECRET', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'TEMPORAL_API_KEY'];

export function environmentSecrets(env: Record<string, string | undefined> = process.env): string[] {
  return ENV_SECRETS.map((k) => env[k]).filter((v): v is string => typeof v === 'string' && v !== '');
}

export { MIN_SECRET_LENGTH };
