// Secrets from files (`<NAME>_FILE`): read into the variable they name, every problem reported at once
// with the variable and the path, never the contents.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadM3terConfig } from '../../../src/config/config';
import { MAX_SECRET_FILE_BYTES } from '../../../src/config/secret-files';

describe('secrets as files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-files-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const base = { M3TER_ORG_ID: 'org-1', HOME: '/nonexistent' };

  it('reads each secret from its file, dropping one trailing newline', () => {
    const config = loadConfig({
      ...base,
      M3TER_ACCESS_KEY_ID_FILE: write('key-id', 'AKID-from-file\n'),
      M3TER_API_SECRET_FILE: write('secret', 'secret-from-file\n'),
      TEMPORAL_API_KEY_FILE: write('api-key', 'temporal-key-from-file'),
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      ALERT_WEBHOOK_URL_FILE: write('hook', 'https://hooks.example.com/T/B/token\n'),
    });
    expect(config.m3ter).toMatchObject({ accessKeyId: 'AKID-from-file', apiSecret: 'secret-from-file' });
    expect(config.temporal.connection.apiKey?.reveal()).toBe('temporal-key-from-file');
    expect(config.alertWebhookUrl).toBe('https://hooks.example.com/T/B/token');
  });

  it('refuses every bad secret file at once, naming the variable and the rule, never the contents', () => {
    const secret = 'do-not-print-me';
    const big = write('big', 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    let err: unknown;
    try {
      loadConfig({
        ...base,
        M3TER_ACCESS_KEY_ID: 'AKID',
        M3TER_ACCESS_KEY_ID_FILE: write('both', 'AKID2'),
        M3TER_API_SECRET_FILE: path.join(dir, 'missing'),
        TEMPORAL_API_KEY_FILE: write('empty', '\n'),
        ALERT_WEBHOOK_URL_FILE: big,
        METRICS_PORT: '0',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          variable: 'M3TER_ACCESS_KEY_ID_FILE',
          message: 'is set together with M3TER_ACCESS_KEY_ID: set one of them',
        },
        { variable: 'M3TER_API_SECRET_FILE', message: `${path.join(dir, 'missing')} does not exist` },
        { variable: 'TEMPORAL_API_KEY_FILE', message: `${path.join(dir, 'empty')} is empty` },
        { variable: 'ALERT_WEBHOOK_URL_FILE', message: `${big} is larger than 64 KiB: not a secret` },
        { variable: 'METRICS_PORT', message: 'must be an integer from 1 to 65535' },
      ]),
    );
    expect((err as Error).message).not.toContain(secret);
  });

  it('refuses a file of several lines without quoting it', () => {
    const file = write('two-lines', 'line-one-secret\nline-two-secret\n');
    let err: unknown;
    try {
      loadM3terConfig({ ...base, M3TER_ACCESS_KEY_ID: 'AKID', M3TER_API_SECRET_FILE: file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      { variable: 'M3TER_API_SECRET_FILE', message: `${file} holds more than one line` },
    ]);
    expect((err as Error).message).not.toContain('line-one-secret');
  });
});
