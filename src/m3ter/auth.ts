/**
 * OAuth2 client-credentials tokens (docs/m3ter-api.md, Access token): fetched lazily, cached until
 * shortly before expiry, refreshed by one request however many callers are waiting.
 */
import type { Redactor } from '../log/redact';
import { M3terAuthenticationError, M3terBadRequestError } from './errors';
import type { AuthHooks, Transport } from './http';
import { TokenResponseSchema } from './schemas';
import { validateResponse } from './validation';

export interface TokenProviderOptions {
  transport: Transport;
  apiUrl: string;
  accessKeyId: string;
  apiSecret: string;
  redactor: Redactor;
  /** Refresh this long before expiry; capped at half the token's lifetime. */
  refreshSkewMs: number;
  now: () => number;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

const TOKEN_PATH = '/oauth/token';
/** A token answer is a JWT and a few fields. */
const TOKEN_RESPONSE_MAX_BYTES = 16 * 1024;

export class TokenProvider implements AuthHooks {
  private cached?: CachedToken;
  private inflight?: Promise<string>;
  private readonly basic: string;
  /** Token requests made; exposed for diagnostics and tests. */
  fetchCount = 0;

  constructor(private readonly opts: TokenProviderOptions) {
    this.basic = Buffer.from(`${opts.accessKeyId}:${opts.apiSecret}`, 'utf8').toString('base64');
    // The encoded pair is as good as the secret itself.
    opts.redactor.add(this.basic);
  }

  async getToken(): Promise<string> {
    const c = this.cached;
    if (c && this.opts.now() < c.refreshAt) return c.value;
    // Single flight: everyone who finds the token stale waits on the same request.
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  invalidate(token: string): void {
    // Only the token that was rejected: if a concurrent caller already replaced it, keep the new one.
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    this.fetchCount++;
    const requestedAt = this.opts.now();
    let res;
    try {
      res = await this.opts.transport.request({
        method: 'POST',
        baseUrl: this.opts.apiUrl,
        path: TOKEN_PATH,
        headers: { Authorization: `Basic ${this.basic}` },
        // m3ter's docs specify a form body, its SDKs send JSON and its OpenAPI spec declares both; we follow the docs.
        form: { grant_type: 'client_credentials' },
        retry: 'standard',
        maxResponseBytes: TOKEN_RESPONSE_MAX_BYTES,
      });
    } catch (err) {
      if (err instanceof M3terBadRequestError || err instanceof M3terAuthenticationError) {
        // ASSUMPTION (docs/m3ter-api.md, Assumptions): the status for bad client credentials is not
        // documented; we treat 400 and 401 from the token endpoint as a credentials rejection.
        throw new M3terAuthenticationError(
          `m3ter rejected the access key id / api secret (HTTP ${err.status} from POST ${TOKEN_PATH}${err.m3terMessage ? `: ${err.m3terMessage}` : ''})`,
          {
            status: err.status,
            m3terMessage: err.m3terMessage,
            requestId: err.requestId,
            retryable: false,
            method: 'POST',
            path: TOKEN_PATH,
            attempts: err.attempts,
          },
        );
      }
      throw err;
    }
    const body = validateResponse(TokenResponseSchema, res.body, {
      method: 'POST',
      path: TOKEN_PATH,
      status: res.status,
      requestId: res.requestId,
      attempts: res.attempts,
    });
    this.opts.redactor.addToken(body.access_token);
    const lifetimeMs = body.expires_in * 1000;
    // Measured from when we asked, not when the answer arrived: the server's clock started earlier.
    const skew = Math.min(this.opts.refreshSkewMs, lifetimeMs / 2);
    this.cached = { value: body.access_token, refreshAt: requestedAt + lifetimeMs - skew };
    return body.access_token;
  }
}
