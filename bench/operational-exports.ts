// Many ad-hoc operational exports started together and awaited, as the scale benches run them.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { adhocExportWorkflow } from '../workflows';

export interface OperationalExportsRun {
  handles: WorkflowHandle<typeof adhocExportWorkflow>[];
  results: PromiseSettledResult<Awaited<ReturnType<typeof adhocExportWorkflow>>>[];
  /** From the first start to the last result. */
  seconds: number;
}

export async function runOperationalExports(
  client: Client,
  opts: { exports: number; taskQueue: string; label: string; say: (m: string) => void },
): Promise<OperationalExportsRun> {
  const { exports: n, taskQueue, label, say } = opts;
  const started = Date.now();
  const handles: WorkflowHandle<typeof adhocExportWorkflow>[] = [];
  // Started in waves of 50 so the starts themselves do not dominate the measurement.
  for (let i = 0; i < n; i += 50) {
    handles.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) =>
          client.workflow.start<typeof adhocExportWorkflow>('adhocExportWorkflow', {
            taskQueue,
            workflowId: `${taskQueue}-${started}-${i + k}`,
            args: [{ request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] } }],
          }),
        ),
      )),
    );
  }
  let done = 0;
  const progress = setInterval(() => say(`${label}: ${done}/${n} done`), 15_000);
  try {
    const results = await Promise.allSettled(
      handles.map((h) =>
        h.result().finally(() => {
          done++;
        }),
      ),
    );
    return { handles, results, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(progress);
  }
}
