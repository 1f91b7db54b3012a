// One real Temporal dev server per jest run. The global setup starts it and publishes its address through
// TEMPORAL_TEST_ADDRESS (inherited by jest workers); tests connect with connectTestTemporal().
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, type RunningDevServer } from '../../tooling/devserver';
import { startReaper, type Reaper } from './reaper';

let server: RunningDevServer | undefined;
let reaper: Reaper | undefined;

export async function startTestTemporal(): Promise<void> {
  if (process.env.TEMPORAL_TEST_ADDRESS) return; // an outer process already runs one
  const started = Date.now();
  server = await startDevServer({
    log: (m) => process.stderr.write(`[temporal] ${m}\n`),
    readyTimeoutMs: 180_000,
  });
  // A jest run killed outright never reaches the global teardown: the reaper stops the server then.
  if (server.pid !== undefined) reaper = startReaper(`kill -9 ${server.pid} 2>/dev/null`);
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.TEMPORAL_TEST_NAMESPACE = server.namespace;
  process.stderr.write(
    `[temporal] dev server (${server.source}) at ${server.address}, ready in ${Date.now() - started} ms\n`,
  );
}

export async function stopTestTemporal(): Promise<void> {
  if (!server) return;
  await server.stop();
  reaper?.cancel();
  server = undefined;
  delete process.env.TEMPORAL_TEST_ADDRESS;
}

export interface TestTemporal {
  address: string;
  namespace: string;
  connection: Connection;
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

/** Connects to the run's dev server, or to `server` (a test that runs its own). */
export async function connectTestTemporal(server?: {
  address: string;
  namespace: string;
}): Promise<TestTemporal> {
  const address = server?.address ?? process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) {
    throw new Error(
      'TEMPORAL_TEST_ADDRESS is not set: run through jest (its global setup starts the dev server)',
    );
  }
  const namespace = server?.namespace ?? process.env.TEMPORAL_TEST_NAMESPACE ?? 'default';
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    address,
    namespace,
    connection,
    client,
    nativeConnection,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}
