import { REDACTED, Redactor, redact, redactUrl } from '../../../src/log/redact';
import { M3terServerError, M3terRequestValidationError } from '../../../src/m3ter/errors';

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMiLCJvcmdJZCI6Im8ifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLW1vcmU';
const PRESIGNED =
  'https://bucket.s3.eu-west-2.amazonaws.com/exports/abc_measurements.csv.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250520&X-Amz-Signature=deadbeefcafe';

describe('redact', () => {
  it('removes bearer and basic credentials', () => {
    expect(redact('Authorization: Bearer abc.def-ghi_jkl')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redact('authorization: basic dXNlcjpwYXNz==')).toBe(`authorization: basic ${REDACTED}`);
  });
  it('removes JWT-shaped strings wherever they appear', () => {
    const out = redact(`token was ${JWT}, fine`);
    expect(out).not.toContain('eyJ');
    expect(out).toBe(`token was ${REDACTED}, fine`);
  });
  it('removes Slack tokens wherever they appear, whatever their kind', () => {
    for (const token of ['xoxb-1234567890-abcdefghij', 'xoxp-12-34-56-abcdef0123', 'xoxe-1-abcdefgh12'])
      expect(redact(`slack said invalid_auth for ${token}.`)).toBe(
        `slack said invalid_auth for ${REDACTED}.`,
      );
  });
  it('removes access_token values in JSON and form encodings', () => {
    expect(redact('{"access_token": "opaque-token-value", "expires_in": 18000}')).toBe(
      `{"access_token": "${REDACTED}", "expires_in": 18000}`,
    );
    expect(redact('access_token=opaque123&x=1')).toBe(`access_token=${REDACTED}&x=1`);
    expect(redact('client_secret=s3cr3t')).toBe(`client_secret=${REDACTED}`);
  });
  it('leaves prose mentioning secret variable names alone', () => {
    expect(redact('M3TER_API_SECRET: is required')).toBe('M3TER_API_SECRET: is required');
  });
  it('replaces the whole query of any absolute URL, keeping scheme, host and path', () => {
    const out = redact(`download from ${PRESIGNED} failed`);
    expect(out).toBe(
      `download from https://bucket.s3.eu-west-2.amazonaws.com/exports/abc_measurements.csv.gz?${REDACTED} failed`,
    );
    expect(out).not.toMatch(/Signature|Credential|deadbeef/);
  });
  it('drops userinfo from URLs', () => {
    expect(redact('see https://user:pw@example.com/x')).toBe(`see https://${REDACTED}@example.com/x`);
  });
  it('removes explicitly given secrets, including URL-encoded forms, longest first', () => {
    const secret = 'p@ss/word+with spaces';
    const out = redact(`a ${secret} b ${encodeURIComponent(secret)} c`, [secret]);
    expect(out).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(redact('abcdefgh abcd', ['abcd', 'abcdefgh'])).toBe(`${REDACTED} ${REDACTED}`);
  });
  it('ignores secrets too short to be meaningful', () => {
    expect(redact('a b c', ['a'])).toBe('a b c');
  });
});

describe('redactUrl', () => {
  it('keeps scheme/host/path and replaces the query', () => {
    expect(redactUrl(PRESIGNED)).toBe(
      `https://bucket.s3.eu-west-2.amazonaws.com/exports/abc_measurements.csv.gz?${REDACTED}`,
    );
    expect(redactUrl('http://127.0.0.1:8080/files/x.csv')).toBe('http://127.0.0.1:8080/files/x.csv');
    expect(redactUrl('https://u:p@h.example/p#frag')).toBe(`https://${REDACTED}@h.example/p?${REDACTED}`);
  });
  it('never returns an unparseable input unredacted', () => {
    expect(redactUrl(`not a url Bearer ${JWT}`)).not.toContain('eyJ');
  });
});

describe('Redactor', () => {
  it('redacts registered secrets and deep values, masking credential keys', () => {
    const r = new Redactor(['super-secret-value']);
    r.add('tok_123456');
    const v = r.redactValue({
      msg: 'x super-secret-value y',
      nested: [{ t: 'tok_123456' }],
      authorization: 'anything',
      n: 3,
    });
    expect(v).toEqual({ msg: `x ${REDACTED} y`, nested: [{ t: REDACTED }], authorization: REDACTED, n: 3 });
  });
});

describe('errors are redacted at construction', () => {
  it('redacts message and m3terMessage, strips query from path, and serialises safely', () => {
    const err = new M3terServerError(`boom Bearer ${JWT} at ${PRESIGNED}`, {
      status: 503,
      m3terMessage: `token ${JWT} invalid`,
      path: '/organizations/o/x?access_token=abc',
      method: 'GET',
      retryable: true,
    });
    const all = [err.message, String(err), JSON.stringify(err), err.stack ?? '', err.m3terMessage ?? ''].join(
      '\n',
    );
    expect(all).not.toContain('eyJ');
    expect(all).not.toContain('X-Amz-Signature');
    expect(all).not.toContain('access_token=abc');
    expect(err.path).toBe('/organizations/o/x');
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({
      name: 'M3terServerError',
      status: 503,
      retryable: true,
      method: 'GET',
    });
  });
  it('validation errors carry issues in JSON', () => {
    const err = new M3terRequestValidationError('Invalid x', [{ path: 'a[0].b', message: 'is required' }]);
    expect(err.message).toBe('Invalid x: a[0].b: is required');
    expect(JSON.parse(JSON.stringify(err)).issues).toEqual([{ path: 'a[0].b', message: 'is required' }]);
    expect(err.retryable).toBe(false);
  });
});
