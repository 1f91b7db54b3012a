import { Client } from '@temporalio/client';
import type { TemporalConfig } from '../config/config';
import { connectTemporalClient } from './connection';

/** Every command's client, through the one connection builder (TLS, API key, profiles; clear errors). */
export async function connectClient(
  config: TemporalConfig,
): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await connectTemporalClient(config.connection);
  return { client: new Client({ connection, namespace: config.namespace }), close: () => connection.close() };
}

/** Runs `fn` with a connected client and closes the connection afterwards, whatever `fn` does. */
export async function withTemporalClient<T>(
  config: TemporalConfig,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const { client, close } = await connectClient(config);
  try {
    return await fn(client);
  } finally {
    await close();
  }
}
