// Credentials travel only over TLS: the m3ter API (Basic and bearer credentials) and the alert webhook URL
// must be https, except to loopback, where nothing leaves the host.
import { ConfigError, loadConfig, loadM3terConfig } from '../../../src/config/config';

const creds = {
  M3TER_ORG_ID: 'org-1',
  M3TER_ACCESS_KEY_ID: 'AKID',
  M3TER_API_SECRET: 'top-secret-value-123',
};

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.variable}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('transport rules of the configuration', () => {
  it('http m3ter URLs off loopback are refused, naming the rule and the way out', () => {
    expect(issues(() => loadM3terConfig({ ...creds, M3TER_API_URL: 'http://api.m3ter.example' }))).toEqual([
      'M3TER_API_URL: must be an https URL (http only to localhost/127.0.0.1/::1); M3TER_ALLOW_HTTP=true allows http for a sandbox trial on a private network',
    ]);
    expect(
      issues(() =>
        loadM3terConfig({
          ...creds,
          M3TER_API_URL: 'https://a.example',
          M3TER_INGEST_URL: 'http://10.0.0.5',
        }),
      ),
    ).toHaveLength(1);
  });

  it('loopback http, and http with M3TER_ALLOW_HTTP=true, are accepted', () => {
    for (const url of ['http://127.0.0.1:4010', 'http://localhost:4010', 'http://[::1]:4010'])
      expect(loadM3terConfig({ ...creds, M3TER_API_URL: url }).apiUrl).toBe(url);
    expect(
      loadM3terConfig({ ...creds, M3TER_API_URL: 'http://sandbox:8080', M3TER_ALLOW_HTTP: 'true' }).apiUrl,
    ).toBe('http://sandbox:8080');
  });

  it('ALERT_WEBHOOK_URL must be https off loopback, whatever M3TER_ALLOW_HTTP says', () => {
    expect(
      issues(() =>
        loadConfig({ ...creds, ALERT_WEBHOOK_URL: 'http://hooks.example.com/x', M3TER_ALLOW_HTTP: 'true' }),
      ),
    ).toEqual(['ALERT_WEBHOOK_URL: must be an https URL (http only to localhost/127.0.0.1/::1)']);
  });
});
