// An API-key issuer for tests: an RSA signing key made at test time, its public half served as a JWKS on
// loopback (what the Temporal server's jwtKeyProvider.keySourceURIs fetches), and RS256 tokens in the
// shape the server's default JWT claim mapper reads (`sub`, `permissions: ["<namespace>:<role>"]`).
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JwtIssuer {
  /** http://127.0.0.1:<port>/jwks.json */
  jwksUrl: string;
  /** A signed token; `expiresInSec` may be negative for an expired one. */
  mint(opts: { permissions: string[]; subject?: string; expiresInSec?: number }): string;
  /** A token signed by a key the server does not know, with this issuer's key id. */
  mintForeign(opts: { permissions: string[] }): string;
  close(): Promise<void>;
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

function sign(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}

export async function startJwtIssuer(): Promise<JwtIssuer> {
  const kid = randomUUID();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const claims = (permissions: string[], subject = 'm3ter-export-worker', expiresInSec = 3600) => {
    const now = Math.floor(Date.now() / 1000);
    return { sub: subject, permissions, iat: now - 60, exp: now + expiresInSec };
  };
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    mint: (o) => sign(privateKey, kid, claims(o.permissions, o.subject, o.expiresInSec)),
    mintForeign: (o) => sign(foreign, kid, claims(o.permissions)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
