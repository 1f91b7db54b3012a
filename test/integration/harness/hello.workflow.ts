// A trivial workflow that proves the harness: a real worker runs it on the real dev server.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { HarnessActivities } from './harness.test';

const { echo } = proxyActivities<HarnessActivities>({ startToCloseTimeout: '10 seconds' });

export async function harnessWorkflow(name: string): Promise<{ greeting: string; historyLength: number }> {
  await sleep('50 milliseconds');
  const greeting = await echo(`hello ${name}`);
  return { greeting, historyLength: workflowInfo().historyLength };
}
