// Captures a finished (or deliberately stopped) workflow run's history from the server as a replay fixture:
// fetched, scrubbed of machine-local strings, checked for secrets, written under test/replay/histories/.
import os from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJsonObject } from './history-json';
import { scrubHistory, secretsIn, writeFixture, type ReplayFixture } from './fixture';

export interface Recorder {
  client: Client;
  taskQueue: string;
  /** Writes the run's history as `<workflowType>/<name>.json`; returns the file. */
  capture(name: string, covers: string, workflowId: string, runId?: string): Promise<string>;
  written: string[];
}

export interface RecorderOptions {
  client: Client;
  taskQueue: string;
  /** Directories whose paths land in activity results (the export directory): replaced by a placeholder. */
  localDirs: string[];
  /** Credentials of the recording: a fixture holding one is refused. */
  secrets: string[];
  log: (msg: string) => void;
}

export function createRecorder(opts: RecorderOptions): Recorder {
  const replacements: Array<[string, string]> = [
    ...opts.localDirs.map((d): [string, string] => [d, '/exports']),
    [os.hostname(), 'recorder-host'],
  ];
  const written: string[] = [];
  return {
    client: opts.client,
    taskQueue: opts.taskQueue,
    written,
    async capture(name, covers, workflowId, runId) {
      const handle = opts.client.workflow.getHandle(workflowId, runId);
      const history = historyToJsonObject(await handle.fetchHistory()) as ReplayFixture['history'];
      const first = history.events[0] as {
        workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
      };
      const workflowType = first.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (!workflowType) throw new Error(`history of ${workflowId} does not start with a started event`);
      const scrubbed = scrubHistory(history, replacements);
      const leaks = secretsIn(scrubbed, opts.secrets);
      if (leaks.length) throw new Error(`history of ${workflowId} holds ${leaks.join(', ')}: not written`);
      const file = writeFixture({ workflowType, path: name, covers, workflowId, history: scrubbed });
      opts.log(`${workflowType}/${name}: ${history.events.length} events`);
      written.push(file);
      return file;
    },
  };
}

/** Waits for a run's outcome without throwing: the fixtures record failures and cancellations too. */
export async function settle(handle: WorkflowHandle): Promise<'completed' | 'failed'> {
  try {
    await handle.result();
    return 'completed';
  } catch {
    return 'failed';
  }
}
