// Redaction by construction: whatever path a secret takes into a log line, the written line does not hold
// it. Every case logs through the real pino logger into a captured stream and searches the raw lines.
import { Writable } from 'node:stream';
import { createChannel } from '../../../src/alerts/router';
import { createLogger } from '../../../src/log/logger';
import { REDACTED, Redactor } from '../../../src/log/redact';
import { processSecrets, registerSecrets, SecretRegistry } from '../../../src/log/secrets';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination, secrets: ['api-secret-Value-42'] });
  const text = () => lines.join('');
  return { log, lines, text };
}

function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { level: v };
  return v;
}

describe('log lines are redacted whatever the path', () => {
  it('a registered secret at depth 8, and 40, is redacted', () => {
    const { log, text } = capture();
    log.info(nest(8, 'the api-secret-Value-42 here'), 'deep');
    log.info(nest(40, 'the api-secret-Value-42 here'), 'deeper');
    expect(text()).not.toContain('api-secret-Value-42');
    expect(text()).toContain(REDACTED);
  });

  it('%o, %j and %s arguments are redacted', () => {
    const { log, text } = capture();
    log.info(
      'as %o then %j then %s',
      { k: 'api-secret-Value-42' },
      { t: 'api-secret-Value-42' },
      'api-secret-Value-42',
    );
    expect(text()).not.toContain('api-secret-Value-42');
    expect(text().match(/<redacted>/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('child() bindings are redacted', () => {
    const { log, text } = capture();
    log.child({ url: 'https://x.example/p?sig=abc', key: 'api-secret-Value-42' }).info('from a child');
    expect(text()).not.toMatch(/api-secret-Value-42|sig=abc/);
  });

  it('an error keeps its cause chain, redacted', () => {
    const { log, lines } = capture();
    const root = new Error('socket said Bearer abc.def.ghi');
    const err = new Error('outer api-secret-Value-42', { cause: root });
    log.error({ err }, 'failed');
    log.error(err, 'failed as first argument');
    const [a, b] = lines.map(
      (l) => JSON.parse(l) as { err: { message: string; cause: { message: string } } },
    );
    for (const l of [a, b]) {
      expect(l.err.message).toBe(`outer ${REDACTED}`);
      expect(l.err.cause.message).toBe(`socket said Bearer ${REDACTED}`);
    }
  });

  it.each([
    [
      'a Slack webhook URL',
      'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx',
      'abcdefghijklmnop',
    ],
    [
      'a PagerDuty routing_key in JSON text',
      '{"routing_key":"R0UTINGKEY0123456789abcdef01234","event_action":"trigger"}',
      'R0UTINGKEY',
    ],
    ['a routingKey field', { routingKey: 'R0UTINGKEY0123456789abcdef01234' }, 'R0UTINGKEY'],
    [
      'a percent-encoded presigned URL',
      'next=https%3A%2F%2Fb.s3.amazonaws.com%2Fk.csv%3FX-Amz-Credential%3DAKIAXXX%26X-Amz-Signature%3Ddeadbeef',
      'deadbeef',
    ],
    [
      'a JSON-escaped presigned URL',
      '{"u":"https:\\/\\/b.s3.amazonaws.com\\/k.csv?X-Amz-Signature=deadbeef\\u0026a=b"}',
      'deadbeef',
    ],
    ['a bare X-Amz-Signature', 'got X-Amz-Signature=deadbeef0123 from it', 'deadbeef'],
    [
      'aws_secret_access_key=',
      'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI',
    ],
    ['an env-style secret', 'M3TER_API_SECRET=plain-secret-from-env', 'plain-secret-from-env'],
  ])('%s is redacted in the message and in objects', (_what, value, fragment) => {
    const { log, text } = capture();
    if (typeof value === 'string') {
      log.warn(value);
      log.warn({ detail: value }, 'in an object');
    } else {
      log.warn(value, 'as fields');
    }
    expect(text()).not.toContain(fragment);
  });

  it("an alert channel's URL, path and secret are registered with the process when the channel is built", () => {
    createChannel({
      name: 'ops',
      type: 'webhook',
      url: 'https://alerts.example/hook/Zq9TokenInPath0123',
      secret: 'hmac-secret-0123456789abcdef0123456789',
    });
    const { log, text } = capture();
    log.info(
      { e: 'POST /hook/Zq9TokenInPath0123 failed; signed with hmac-secret-0123456789abcdef0123456789' },
      'x',
    );
    expect(text()).not.toMatch(/Zq9TokenInPath0123|hmac-secret-0123/);
  });
});

describe('the secret registry', () => {
  it('keeps only the newest access tokens and compiles its matcher once per change', () => {
    const r = new SecretRegistry();
    r.add('long-lived-secret');
    for (let i = 0; i < 20_000; i++) r.addToken(`token-${i}-abcdefgh`);
    expect(r.size).toBeLessThanOrEqual(1 + 32);
    const m = r.matcher();
    expect(r.matcher()).toBe(m);
    expect('token-19999-abcdefgh'.replace(m!, 'X')).toBe('X');
    expect('token-0-abcdefgh'.replace(m!, 'X')).toBe('token-0-abcdefgh');
  });

  it('a client registering a token per call leaves the process registry bounded and redaction fast', () => {
    const redactor = new Redactor();
    for (let i = 0; i < 20_000; i++) redactor.addToken(`tok-${i}-${'x'.repeat(20)}`);
    registerSecrets(['another-lasting-secret']);
    expect(processSecrets.size).toBeLessThan(300);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) redactor.redact(`line ${i} with tok-19999-${'x'.repeat(20)}`);
    const perLineMs = Number(process.hrtime.bigint() - t0) / 1e6 / 100;
    expect(perLineMs).toBeLessThan(5);
  });
});
