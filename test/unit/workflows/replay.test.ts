// Replays every recorded history (test/replay/histories/, written by scripts/record-histories.ts) against
// today's workflow code, built the way the worker builds it (src/runtime/workflow-bundle.ts). A change to a
// workflow that running workflows could not replay fails here, naming the workflow type and the history,
// instead of failing workflow tasks with a non-determinism error after an upgrade.
import { DefaultLogger, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { historyFromJsonObject } from '../../../tooling/replay/history-json';
import * as workflows from '../../../workflows';
import { workflowSource } from '../../../src/runtime/workflow-bundle';
import { loadFixtures, secretsIn } from '../../../tooling/replay/fixture';

const fixtures = loadFixtures();

/** Whether a workflow type is covered by at least these paths' histories. */
const REQUIRED_PATHS: Record<string, string[]> = {
  backfillWorkflow: ['continued-as-new', 'continued-run', 'cancelled'],
  exportFailureMonitorWorkflow: ['continued-as-new'],
  adhocExportWorkflow: ['success-local', 'job-failed', 'faults-retried', 'cancelled'],
  scheduledExportWorkflow: ['window-exported', 'window-awaited'],
  alertDeliveryWorkflow: ['delivered'],
  exportIncidentWorkflow: ['resolved'],
};

describe('replay of recorded workflow histories', () => {
  const outcomes: Array<Error | undefined> = [];

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      /* installed already by another test file in this jest worker */
    }
    const options: ReplayWorkerOptions = { ...workflowSource(), replayName: 'replay-corpus' };
    const histories = fixtures.map(({ fixture }) => ({
      workflowId: fixture.workflowId,
      history: historyFromJsonObject(fixture.history),
    }));
    // One replay worker for the whole corpus; results come in the histories' order.
    for await (const result of Worker.runReplayHistories(options, histories)) outcomes.push(result.error);
  }, 300_000);

  it('has a history of every workflow type the worker registers, on each required path', () => {
    const registered = Object.entries(workflows)
      .filter(([, v]) => typeof v === 'function')
      .map(([name]) => name)
      .sort();
    const recorded = new Set(fixtures.map(({ fixture }) => fixture.workflowType));
    expect(registered.filter((t) => !recorded.has(t))).toEqual([]);
    for (const [type, paths] of Object.entries(REQUIRED_PATHS)) {
      const have = fixtures.filter((f) => f.fixture.workflowType === type).map((f) => f.fixture.path);
      expect({ type, missing: paths.filter((p) => !have.includes(p)) }).toEqual({ type, missing: [] });
    }
  });

  it.each(fixtures.map((f, i) => ({ ...f, i })))(
    '$file replays against the workflow code',
    ({ file, fixture, i }) => {
      const first = fixture.history.events[0] as {
        workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
      };
      expect(first.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(fixture.workflowType);
      const err = outcomes[i];
      if (err) {
        throw new Error(
          `${fixture.workflowType} no longer replays history ${file} (${fixture.covers}): ` +
            `${err.name}: ${err.message}`,
        );
      }
      expect(outcomes).toHaveLength(fixtures.length);
    },
  );

  it('holds no presigned URL signature, bearer token or JWT in any history', () => {
    const leaks = fixtures.flatMap(({ file, fixture }) =>
      secretsIn(fixture.history).map((s) => `${file}: ${s}`),
    );
    expect(leaks).toEqual([]);
  });
});
