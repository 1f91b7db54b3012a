/**
 * Why a connection to Temporal failed, in one line an operator can act on. The SDK's own errors say little
 * ("Failed to connect before the deadline"), so on failure the same settings are tried again with plain
 * TCP and TLS from node:net / node:tls, which report the cause: nothing listening, a host not found, a
 * server certificate that fails verification, a client certificate the server refuses, TLS on one side
 * only. No cause text quotes a secret: TLS library messages are mapped to fixed words, not passed on.
 */
import net from 'node:net';
import tls from 'node:tls';
import { hostOf, isIpAddress, portOf, type TemporalConnectionSettings } from './settings';

const PROBE_TIMEOUT_MS = 5_000;

export interface ConnectionDiagnosis {
  /** One line, no secrets. */
  cause: string;
  /** Nothing answers at the address: a local try wants `m3ter-exports dev`. */
  unreachable: boolean;
  /**
   * The SDK's connection would fail the same way for certain (a refused TCP connection, a TLS alert or
   * verification error, TLS on one side only): no need to wait for its deadline.
   */
  definitive?: boolean;
  /** No probe explained it: `cause` is the SDK's own (sanitized) message. */
  fromSdk?: boolean;
}

/** TCP only: a definite "nothing there" answer, quick enough to race against the SDK's connect. */
export function probeTcp(settings: TemporalConnectionSettings): Promise<ConnectionDiagnosis | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostOf(settings.address), port: portOf(settings.address) });
    socket.setTimeout(PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({
        cause: `no answer from ${settings.address} within ${PROBE_TIMEOUT_MS / 1000} s`,
        unreachable: true,
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ cause: tcpCause(settings, err), unreachable: true, definitive: true });
    });
  });
}

function tcpCause(settings: TemporalConnectionSettings, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused: nothing listens at ${settings.address}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `host "${hostOf(settings.address)}" not found (DNS)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${settings.address}`;
    default:
      return `cannot open a TCP connection to ${settings.address} (${err.code ?? 'error'})`;
  }
}

const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const SERVER_CERT_WORDS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'not signed by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'signed by a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed and not trusted',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not valid yet',
  CERT_UNTRUSTED: 'not trusted',
  CERT_REJECTED: 'rejected',
};

/** TLS alerts the server sends when it refuses the client's certificate (or its absence). */
function clientCertAlert(err: NodeJS.ErrnoException): 'required' | 'refused' | undefined {
  const code = err.code ?? '';
  const text = `${code} ${err.message}`.toLowerCase();
  if (code.includes('CERTIFICATE_REQUIRED') || text.includes('alert certificate required')) return 'required';
  if (
    /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED|HANDSHAKE_FAILURE)/.test(
      code,
    ) ||
    /alert (bad certificate|unknown ca|certificate unknown|certificate expired|access denied)/.test(text)
  )
    return 'refused';
  return undefined;
}

/** The server answered the ClientHello with something that is not TLS. */
function notTls(err: NodeJS.ErrnoException): boolean {
  return (
    err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    err.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    err.code === 'ECONNRESET' ||
    /before secure TLS connection was established|wrong version number/i.test(err.message)
  );
}

// The HTTP/2 connection preface and an empty SETTINGS frame: a gRPC server answers with its own SETTINGS,
// and a server that refuses the client certificate under TLS 1.3 sends its alert in reply.
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

type TlsOutcome =
  | { kind: 'ok' }
  | { kind: 'error'; err: NodeJS.ErrnoException; afterHandshake: boolean }
  | { kind: 'closed'; afterHandshake: boolean }
  | { kind: 'timeout' };

function tryTls(settings: TemporalConnectionSettings, options: tls.ConnectionOptions): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    let handshaken = false;
    const host = hostOf(settings.address);
    const socket = tls.connect({
      host,
      port: portOf(settings.address),
      ALPNProtocols: ['h2'],
      // SNI takes names only; with an IP address and no server name, the IP is checked against the SANs.
      ...(isIpAddress(host) ? {} : { servername: host }),
      ...options,
    });
    let settled = false;
    const done = (outcome: TlsOutcome) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    let error: NodeJS.ErrnoException | undefined;
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done({ kind: 'timeout' }));
    socket.once('secureConnect', () => {
      handshaken = true;
      socket.write(H2_PREFACE);
    });
    socket.once('data', () => done({ kind: 'ok' }));
    // A refusing server's alert may arrive with or after the end of the stream: decide on close.
    socket.once('error', (err) => (error ??= err));
    socket.once('close', () =>
      done(
        error
          ? { kind: 'error', err: error, afterHandshake: handshaken }
          : { kind: 'closed', afterHandshake: handshaken },
      ),
    );
  });
}

/**
 * Finds why `settings` cannot connect, by trying them with node:net and node:tls. Undefined when those
 * connect fine (the cause then lies above TLS: the SDK's error says it).
 */
export async function diagnoseConnection(
  settings: TemporalConnectionSettings,
): Promise<ConnectionDiagnosis | undefined> {
  const tcp = await probeTcp(settings);
  if (tcp) return tcp;
  const s = settings.sources;
  if (!settings.tls) {
    // Plaintext configured: does the server want TLS? A handshake that gets anywhere says yes.
    const r = await tryTls(settings, { rejectUnauthorized: false });
    const speaksTls =
      r.kind === 'ok' ||
      (r.kind === 'error' && (r.afterHandshake || clientCertAlert(r.err) !== undefined)) ||
      (r.kind === 'closed' && r.afterHandshake);
    if (speaksTls)
      return {
        cause:
          `the server requires TLS but TLS is off (${s.tls ?? 'no TEMPORAL_TLS setting'}): set TEMPORAL_TLS=true` +
          ' and, for a private CA, TEMPORAL_TLS_SERVER_CA_CERT_PATH',
        unreachable: false,
        definitive: true,
      };
    return undefined;
  }
  const t = settings.tls;
  const r = await tryTls(settings, {
    ...(t.serverName ? { servername: t.serverName } : {}),
    ...(t.serverCaCert ? { ca: t.serverCaCert } : {}),
    ...(t.clientCert && t.clientKey ? { cert: t.clientCert, key: t.clientKey.reveal() } : {}),
  });
  if (r.kind === 'ok') return undefined;
  if (r.kind === 'timeout')
    return {
      cause: `no TLS answer from ${settings.address} within ${PROBE_TIMEOUT_MS / 1000} s`,
      unreachable: false,
    };
  if (r.kind === 'closed')
    return {
      cause: r.afterHandshake
        ? t.clientCert
          ? `the server closed the connection after the TLS handshake: it probably refused the client certificate (${s.clientCert})`
          : 'the server closed the connection after the TLS handshake: it may require a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)'
        : `the server closed the connection during the TLS handshake (does it speak TLS? TLS is on because of ${s.tls})`,
      unreachable: false,
    };
  const err = r.err;
  const alert = clientCertAlert(err);
  if (alert === 'required')
    return {
      cause: t.clientCert
        ? `the server refused the client certificate (${s.clientCert})`
        : 'the server requires a client certificate (mTLS) and none is set: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
      unreachable: false,
      definitive: true,
    };
  if (alert === 'refused')
    return {
      cause: t.clientCert
        ? `the server refused the client certificate (${s.clientCert}): is it issued by a CA the server trusts, and valid?`
        : 'the server refused the TLS handshake: it may require a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)',
      unreachable: false,
      definitive: true,
    };
  if (err.code && SERVER_CERT_CODES.has(err.code)) {
    const what =
      err.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `does not name ${t.serverName ? `"${t.serverName}" (${s.serverName})` : `"${hostOf(settings.address)}"`}; set TEMPORAL_TLS_SERVER_NAME to a name on it`
        : `is ${SERVER_CERT_WORDS[err.code] ?? 'not trusted'} (${s.serverCaCert ? `CA from ${s.serverCaCert}` : 'checked against the system CAs: set TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA'})`;
    return {
      cause: `the server's certificate failed verification: it ${what}`,
      unreachable: false,
      definitive: true,
    };
  }
  if (!r.afterHandshake && notTls(err))
    return {
      cause: `the server does not speak TLS, but TLS is on (${s.tls}): set TEMPORAL_TLS=false if the server is plaintext`,
      unreachable: false,
      definitive: true,
    };
  return {
    cause: `TLS failed (${err.code ?? 'error'}${r.afterHandshake ? ', after the handshake' : ''})`,
    unreachable: false,
  };
}
