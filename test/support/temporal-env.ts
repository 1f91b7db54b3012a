// Environment for a worker or CLI process under test that reaches Temporal only through the settings the
// test gives: every TEMPORAL_* connection variable the caller does not set is blanked (blank counts as
// unset), and the temporal CLI's default config file is looked for in an empty directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMPORAL_CONNECTION_VARIABLES } from '../../src/temporal/settings';

const emptyConfigHome = fs.mkdtempSync(path.join(os.tmpdir(), 'm3ter-no-temporal-config-'));
process.once('exit', () => fs.rmSync(emptyConfigHome, { recursive: true, force: true }));

export function temporalEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { XDG_CONFIG_HOME: emptyConfigHome };
  for (const v of TEMPORAL_CONNECTION_VARIABLES) env[v] = '';
  return { ...env, ...settings };
}
