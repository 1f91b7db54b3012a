// Environment for a worker or CLI process under test that reaches Temporal only through the settings the
// test gives: every TEMPORAL_* connection variable the caller does not set is blanked (blank counts as
// unset), and the temporal CLI's default config file is looked for in an empty directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CONNECTION_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
];

const emptyConfigHome = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-no-temporal-config-'));
process.once('exit', () => fs.rmSync(emptyConfigHome, { recursive: true, force: true }));

export function temporalEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { XDG_CONFIG_HOME: emptyConfigHome };
  for (const v of CONNECTION_VARIABLES) env[v] = '';
  return { ...env, ...settings };
}
