// The rules for URLs another system hands us to fetch (m3ter's presigned download URLs), checked before the
// request, on every redirect hop, and again when the socket connects:
//
// * the configured m3ter API's own origin is trusted as the API itself is (the local sandbox serves its
//   files there, over plain http on loopback);
// * anything else must be `https:` without userinfo, and must connect only to public unicast addresses.
//   An IP literal is checked before the request; a DNS name is checked by the agent's `lookup`, on the
//   addresses the socket will actually use, so a name that resolves to a public address for a check and to
//   a private one for the connection (DNS rebinding) is still refused.
//
// Refusals are `UrlRefusedError`s naming the rule; their message never holds the URL's query.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { redactUrl } from '../log/redact';
import { ipLiteral, isPublicAddress } from './address';

export const UrlRule = {
  /** The URL does not parse, or is too long. */
  Malformed: 'malformed',
  /** Not `https:` (and not on the API's own origin). */
  Scheme: 'https-only',
  /** `https://user:pass@host`: credentials in a URL are not something m3ter hands out. */
  Userinfo: 'no-userinfo',
  /** Loopback, private, link-local (metadata), multicast or reserved address. */
  Address: 'public-address-only',
  /** More redirects than allowed. */
  Redirects: 'redirect-limit',
} as const;
export type UrlRule = (typeof UrlRule)[keyof typeof UrlRule];

export const MAX_URL_LENGTH = 16_384;
export const MAX_REDIRECTS = 5;

export interface UrlPolicy {
  /** Origin (`scheme://host:port`) of the configured m3ter API: trusted, whatever its scheme or address. */
  trustedOrigin?: string;
}

/** A URL broke one of the rules above. Safe to log: the message shows the URL without its query. */
export class UrlRefusedError extends Error {
  readonly code = 'ERR_URL_REFUSED';
  constructor(
    readonly rule: UrlRule,
    detail: string,
  ) {
    super(`URL refused (rule ${rule}): ${detail}`);
    this.name = 'UrlRefusedError';
  }
}

/** What a refusal may say about a URL: scheme, host and path of http(s) URLs, only the scheme otherwise. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? redactUrl(url) : `a ${u.protocol} URL`;
  } catch {
    return 'an unparseable URL';
  }
}

export function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Whether the URL is on the trusted origin (then no address rule applies to it). */
export function isTrustedOrigin(url: URL, policy: UrlPolicy): boolean {
  return policy.trustedOrigin !== undefined && url.origin === originOf(policy.trustedOrigin);
}

/** The checks that need no network: throws UrlRefusedError, returns the parsed URL. */
export function checkUrl(url: string, policy: UrlPolicy): URL {
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH)
    throw new UrlRefusedError(UrlRule.Malformed, `longer than ${MAX_URL_LENGTH} characters`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UrlRefusedError(UrlRule.Malformed, 'not an absolute URL');
  }
  if (isTrustedOrigin(u, policy)) return u;
  if (u.protocol !== 'https:') throw new UrlRefusedError(UrlRule.Scheme, `${describeUrl(url)} is not https`);
  if (u.username || u.password)
    throw new UrlRefusedError(UrlRule.Userinfo, `${describeUrl(url)} carries credentials`);
  const ip = ipLiteral(u.hostname);
  if (ip !== undefined && !isPublicAddress(ip))
    throw new UrlRefusedError(UrlRule.Address, `${describeUrl(url)} names a non-public address`);
  return u;
}

type Resolver = (
  hostname: string,
  cb: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, cb) => dns.lookup(hostname, { all: true }, cb);

/**
 * A `lookup` for http(s) agents that resolves every address of the name and refuses the connection when
 * any of them is not public (an attacker's name may mix public and private answers).
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => !isPublicAddress(a.address));
      if (bad || addresses.length === 0) {
        const refused = new UrlRefusedError(
          UrlRule.Address,
          `${hostname} resolves to a non-public address`,
        ) as Error as NodeJS.ErrnoException;
        return callback(refused, '', 0);
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
      const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
      if (options.all) return (callback as unknown as AllCallback)(null, usable);
      const first = usable[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };
}
type AllCallback = (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void;

export interface GuardedAgents {
  /** For URLs off the trusted origin: every connection goes through `guardedLookup`. */
  guarded: https.Agent;
  /** For the trusted origin. */
  trustedHttp: http.Agent;
  trustedHttps: https.Agent;
  destroy(): void;
}

export function createGuardedAgents(resolve?: Resolver): GuardedAgents {
  const guarded = new https.Agent({ keepAlive: true, lookup: guardedLookup(resolve) });
  const trustedHttp = new http.Agent({ keepAlive: true });
  const trustedHttps = new https.Agent({ keepAlive: true });
  return {
    guarded,
    trustedHttp,
    trustedHttps,
    destroy() {
      guarded.destroy();
      trustedHttp.destroy();
      trustedHttps.destroy();
    },
  };
}

/** Finds a UrlRefusedError in an error or its causes (axios wraps socket errors). */
export function urlRefusal(err: unknown): UrlRefusedError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof UrlRefusedError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
