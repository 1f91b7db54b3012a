import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';

export interface HarnessActivities {
  echo(text: string): Promise<string>;
}

describe('Temporal harness (real dev server)', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });
  afterAll(async () => temporal?.close());

  it('runs a workflow with an activity and a durable timer on a real worker', async () => {
    const taskQueue = `harness-${randomUUID()}`;
    const calls: string[] = [];
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('./hello.workflow'),
      activities: { echo: async (t: string) => (calls.push(t), t.toUpperCase()) },
    });
    const result = await worker.runUntil(
      temporal.client.workflow.execute('harnessWorkflow', {
        taskQueue,
        workflowId: `harness-${randomUUID()}`,
        args: ['temporal'],
      }),
    );
    expect(result.greeting).toBe('HELLO TEMPORAL');
    expect(calls).toEqual(['hello temporal']);
    // A timer and an activity each leave events; a fake server would not produce a real history.
    expect(result.historyLength).toBeGreaterThan(5);
  });

  it('registered the custom search attributes the export workflows rely on', async () => {
    const res = await temporal.connection.operatorService.listSearchAttributes({
      namespace: temporal.namespace,
    });
    expect(Object.keys(res.customAttributes)).toEqual(
      expect.arrayContaining(['M3terExportJobId', 'M3terExportKind']),
    );
  });
});
