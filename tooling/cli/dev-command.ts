// `m3ter-exports dev`: Temporal dev server (with UI) + sandbox + worker in one process, until Ctrl-C.
import { EXIT_OK } from '../../src/cli/exit-codes';
import { startLocalStack } from './local-stack';

export async function runDev(opts: {
  uiPort: number;
  temporalPort: number;
  sandboxPort: number;
}): Promise<number> {
  const say = (m: string) => process.stderr.write(`[dev] ${m}\n`);
  const stack = await startLocalStack({
    temporalPort: opts.temporalPort,
    uiPort: opts.uiPort,
    sandboxPort: opts.sandboxPort,
    logLevel: 'info',
    progress: say,
  });
  const { config, temporal } = stack;
  process.stdout.write(
    [
      '',
      `Temporal UI     ${temporal.uiUrl ?? '(headless)'}`,
      `Temporal        ${temporal.address} (namespace ${temporal.namespace}, task queue ${config.temporal.taskQueue})`,
      `m3ter SANDBOX   ${config.m3ter.apiUrl}  (not m3ter; admin API at ${config.m3ter.apiUrl}/_sandbox)`,
      `exports         ${config.exportDir}`,
      '',
      'In another shell, to use the CLI against this stack:',
      `  export TEMPORAL_ADDRESS=${temporal.address}`,
      `  export M3TER_API_URL=${config.m3ter.apiUrl} M3TER_INGEST_URL=${config.m3ter.ingestUrl}`,
      `  export M3TER_ORG_ID=${config.m3ter.orgId} M3TER_ACCESS_KEY_ID=${config.m3ter.accessKeyId}`,
      // The sandbox's own generated credential (or yours from the environment), not an m3ter secret.
      `  export M3TER_API_SECRET=${config.m3ter.apiSecret}`,
      '  m3ter-exports export operational --types ACCOUNTS --wait',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping ...');
  await stack.stop();
  return EXIT_OK;
}
