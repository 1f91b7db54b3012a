import {
  Client,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { CliInputError } from '../cli/exit-codes';
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

/** A workflow type a command operates on, and how its messages name it ("a backfill"). */
export interface CommandWorkflowType {
  workflowType: string;
  noun: string;
}

/**
 * A workflow named on the command line, with its description: refuses an id that names no workflow or a
 * workflow of another type, as bad input naming `<workflowId>`.
 */
export async function describeWorkflowOfType<H extends WorkflowHandle>(
  client: Client,
  workflowId: string,
  { workflowType, noun }: CommandWorkflowType,
): Promise<{ handle: H; d: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(workflowId) as H;
  try {
    const d = await handle.describe();
    if (d.type !== workflowType)
      throw new CliInputError(`<workflowId>: ${workflowId} is a ${d.type}, not ${noun}`);
    return { handle, d };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new CliInputError(`<workflowId>: no workflow ${workflowId}`);
    throw err;
  }
}

/**
 * Requests cancellation of a running workflow named on the command line; refuses, as bad input, one that is
 * not of the type or not running. Returns once the request is recorded, not once the workflow stopped.
 */
export async function cancelRunningWorkflowOfType<H extends WorkflowHandle>(
  client: Client,
  workflowId: string,
  type: CommandWorkflowType,
): Promise<{ handle: H; d: WorkflowExecutionDescription }> {
  const found = await describeWorkflowOfType<H>(client, workflowId, type);
  if (found.d.status.name !== 'RUNNING')
    throw new CliInputError(`<workflowId>: ${workflowId} is not running (${found.d.status.name})`);
  await found.handle.cancel();
  return found;
}
