// alertDeliveryWorkflow: delivers ONE alert to its channels. Its workflow id is the alert's ledger key
// (src/alerts/ledger.ts), so starting it is the claim that makes the alert happen at most once per key;
// this workflow makes it happen at least once per channel (the activity retries each channel; a channel
// that keeps failing is logged and counted, and the workflow still completes).
import { proxyActivities, setWorkflowOptions } from '@temporalio/workflow';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT } from './common';
import { versioned } from './versioning';
import type { AlertActivities, AlertDeliveryResult } from '../activities/alert-activities';
import type { AlertDeliveryInput } from '../src/alerts/ledger';

const { deliverAlert } = proxyActivities<AlertActivities>({
  // One attempt posts to every channel with its own retries (at most ~1 minute per channel).
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  // Activity retries cover a worker lost mid-delivery; channel errors are results, not failures.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

// Pinned: one activity long; it finishes on the build that started it (docs/deploying.md#versioning-behaviours).
setWorkflowOptions(versioned('PINNED'), alertDeliveryWorkflow);

export async function alertDeliveryWorkflow(input: AlertDeliveryInput): Promise<AlertDeliveryResult> {
  return deliverAlert(input);
}
