// An ingest survives its worker being SIGKILLed mid-file: a REAL worker process, the REAL dev server and a
// REAL sandbox process enforcing 50 requests/s. 50,000 rows, 0.1 % of them bad: every good row is ingested
// exactly once (counted by uid in the sandbox), every bad row is reported with its line, and the rows the
// killed worker had in flight, sent again, are recognised as resends rather than rejections.
import fs from 'node:fs';
import path from 'node:path';
import type { ingestWorkflow } from '../../../workflows/ingest';
import { ingestProgressQuery } from '../../../src/contract/ingest';
import { checkFile } from '../../../src/ingest/check-file';
import { ingestInput } from '../../../src/cli/ingest-command';
import { startStack, type Stack } from '../../support/stack';
import { spawnWorkerProcess } from '../../support/worker-process';
import { waitFor } from '../../support/wait-for';

const ROWS = 50_000;

describe('ingest across a worker SIGKILL (worker process + dev server + sandbox process)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      name: 'ingest-kill',
      worker: false,
      sandboxConfig: { ingestMeters: { 'api-calls': { required: ['measure.quantity'] } } },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('ingests every good row exactly once and reports every bad row with its line', async () => {
    const bad = new Map<number, string>();
    const rows = ['meter,account,ts,measure.quantity'];
    for (let i = 0; i < ROWS; i++) {
      const line = i + 2;
      if (i % 1000 === 999) {
        const undefinedMeter = bad.size % 2 === 0;
        bad.set(line, undefinedMeter ? 'UndefinedMeter' : 'MissingField');
        rows.push(
          undefinedMeter
            ? `gone,acct-001,2026-01-01T00:00:00Z,1`
            : `api-calls,acct-001,2026-01-01T00:00:00Z,`,
        );
      } else rows.push(`api-calls,acct-00${1 + (i % 5)},2026-01-01T00:00:00Z,${i}`);
    }
    const file = path.join(stack.dir, 'fifty-thousand.csv');
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const checked = await checkFile({ kind: 'local', path: file });
    if (!checked.file) throw new Error(JSON.stringify(checked.issues));
    const input = {
      ...ingestInput(checked.file, { files: [], settleMs: 3_000 }),
      // Small batches so the file takes ~10 s at 50 requests/s: long enough to kill the worker mid-file.
      batch: { maxCount: 100 },
      pageBatches: 50,
      continueAsNewAfterBatches: 200,
      maxListedRejections: 100,
    };
    let proc = await spawnWorkerProcess(stack.env);
    try {
      const handle = await stack.client.workflow.start<typeof ingestWorkflow>('ingestWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: `it-ingest-kill-${Date.now()}`,
        args: [input],
      });
      const atKill = await waitFor(
        async () => {
          const p = await handle.query(ingestProgressQuery);
          return p.batchesSent >= 80 ? p : undefined;
        },
        '80 batches sent',
        { intervalMs: 100 },
      );
      await proc.kill('SIGKILL');
      expect(atKill.rowsSent).toBeLessThan(ROWS / 2);
      proc = await spawnWorkerProcess(stack.env);

      const result = await handle.result();
      expect(result.rowsSent).toBe(ROWS);
      const rej = result.rejections!;
      expect(rej.rejected).toBe(bad.size);
      expect(new Map(rej.firstRejected.map((r) => [r.line, r.type]))).toEqual(bad);
      const sandbox = (await stack.sandbox.admin.get(
        `/measurements?uidPrefix=ig-${checked.file.sha256.slice(0, 24)}-`,
      )) as { matching: number; duplicatesReceived: number };
      expect(sandbox.matching).toBe(ROWS - bad.size);
      // What the killed worker had in flight went again: m3ter's dedup, not a rejection.
      expect(rej.resendDuplicates).toBe(sandbox.duplicatesReceived);
      expect(fs.readFileSync(`${file}.rejected.csv`, 'utf8').trim().split('\n')).toHaveLength(bad.size + 1);
    } finally {
      await proc.stop();
    }
  }, 360_000);
});
