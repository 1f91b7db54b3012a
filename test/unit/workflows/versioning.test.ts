// Every workflow type the worker registers declares its Worker Versioning behaviour, and it is the one
// docs/deploying.md gives with its reason: short runs pinned to their build, long-lived ones auto-upgrading.
import * as workflows from '../../../workflows';

const EXPECTED: Record<string, 'PINNED' | 'AUTO_UPGRADE'> = {
  adhocExportWorkflow: 'PINNED',
  billsCsvExportWorkflow: 'PINNED',
  alertDeliveryWorkflow: 'PINNED',
  exportJobClaimWorkflow: 'PINNED',
  scheduledExportWorkflow: 'AUTO_UPGRADE',
  backfillWorkflow: 'AUTO_UPGRADE',
  exportFailureMonitorWorkflow: 'AUTO_UPGRADE',
  ingestWorkflow: 'AUTO_UPGRADE',
  exportIncidentWorkflow: 'AUTO_UPGRADE',
};

describe('versioning behaviour of each workflow type', () => {
  it('is declared on every registered workflow and matches the documented choice', () => {
    const declared = Object.fromEntries(
      Object.entries(workflows)
        .filter(([, fn]) => typeof fn === 'function')
        .map(([name, fn]) => [
          name,
          (fn as { workflowDefinitionOptions?: { versioningBehavior?: string } }).workflowDefinitionOptions
            ?.versioningBehavior,
        ]),
    );
    expect(declared).toEqual(EXPECTED);
  });
});
