import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SandboxHttpError } from './errors';
import type { SandboxState } from './state';

/**
 * OAuth2 client credentials (docs/m3ter-api.md, Access token). Tokens are JWT-shaped (base64url
 * header.payload.signature) but signed with HMAC-SHA256 over a sandbox key rather than m3ter's RS256: clients must treat the
 * token as opaque anyway, and HS256 needs no key pair.
 */
export interface TokenClaims {
  sub: string;
  orgId: string;
  iat: number;
  exp: number;
  iss: string;
  permissions: Record<string, boolean>;
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function issueToken(state: SandboxState): { token: string; expiresIn: number } {
  const iat = Math.floor(state.clock.now() / 1000);
  const expiresIn = state.config.tokenLifetimeSeconds;
  const header = { alg: 'HS256', typ: 'JWT', pt: 'service', kid: `serviceUser_${state.orgId}` };
  const claims: TokenClaims = {
    sub: state.accessKeyId,
    orgId: state.orgId,
    iat,
    exp: iat + expiresIn,
    iss: 'm3ter-sandbox (not m3ter)',
    permissions: { 'MEASUREMENTS#MEASUREMENTS_UPLOAD#ITEM#*': true },
  };
  const body = `${b64url(header)}.${b64url(claims)}`;
  const sig = createHmac('sha256', state.jwtKey).update(body).digest('base64url');
  return { token: `${body}.${sig}`, expiresIn };
}

/** Verifies signature and expiry (sandbox clock). Throws 401 with m3ter's error shape. */
export function verifyToken(state: SandboxState, token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new SandboxHttpError(401, 'Invalid bearer token');
  const expected = createHmac('sha256', state.jwtKey).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new SandboxHttpError(401, 'Invalid bearer token');
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new SandboxHttpError(401, 'Invalid bearer token');
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= state.clock.now())
    throw new SandboxHttpError(401, 'The bearer token has expired');
  return claims;
}

/**
 * Called for every `/organizations/:orgId/...` route. Missing/invalid/expired token → 401.
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): a valid token for another organization → 403.
 */
export function authenticate(state: SandboxState, request: FastifyRequest): TokenClaims {
  const header = request.headers.authorization;
  if (!header) throw new SandboxHttpError(401, 'Missing Authorization header: a Bearer token is required');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new SandboxHttpError(401, 'Authorization header must use the Bearer scheme');
  const claims = verifyToken(state, match[1]);
  const pathOrg = (request.params as { orgId?: string }).orgId;
  if (pathOrg !== undefined && pathOrg !== claims.orgId) {
    throw new SandboxHttpError(403, `The token is not valid for organization ${pathOrg}`);
  }
  return claims;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function registerAuthRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post(
    '/oauth/token',
    { config: { m3ter: { rateClass: null, auth: false } } },
    async (request, reply) => {
      // Credentials first: a wrong key/secret is refused whatever the body says.
      const header = request.headers.authorization ?? '';
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      let ok = false;
      if (basic) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const sep = decoded.indexOf(':');
        if (sep >= 0)
          ok =
            safeEqual(decoded.slice(0, sep), state.accessKeyId) &&
            safeEqual(decoded.slice(sep + 1), state.apiSecret);
      }
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): bad or missing client credentials → 401.
      if (!ok)
        throw new SandboxHttpError(401, 'Invalid client credentials', {
          'WWW-Authenticate': 'Basic realm="m3ter-sandbox"',
        });

      // Both a form body (docs) and a JSON body (SDKs) are accepted (docs/m3ter-api.md, Access token).
      const body = request.body as Record<string, unknown> | undefined;
      const grantType = body && typeof body === 'object' ? body.grant_type : undefined;
      if (grantType === undefined) throw new SandboxHttpError(400, 'grant_type: is required');
      if (grantType !== 'client_credentials')
        throw new SandboxHttpError(400, 'grant_type: must be client_credentials');
      const { token, expiresIn } = issueToken(state);
      return reply
        .header('Cache-Control', 'no-store')
        .send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: null });
    },
  );
}
