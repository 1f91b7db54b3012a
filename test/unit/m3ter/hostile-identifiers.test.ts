// Identifiers and error text from a hostile m3ter, through the real client over loopback HTTP
// (test/integration/m3ter-client/scripted-server.ts): ids that would name files, workflows or terminal
// lines are refused at the boundary; m3ter's error text is capped and stripped of control characters.
import { ApplicationFailure } from '@temporalio/common';
import { createTriggerActivity } from '../../../activities/trigger';
import { FailureType } from '../../../src/contract/failures';
import { M3terClient } from '../../../src/m3ter';
import { M3terError, M3terResponseValidationError } from '../../../src/m3ter/errors';
import { json, scriptedServerPerBlock } from '../../integration/m3ter-client/scripted-server';
import { fakeJobClaims, mockEnv, silentLog } from '../activities/fakes';

const HOSTILE_IDS: Array<[string, string]> = [
  ['path-shaped', '../../etc/passwd'],
  ['ANSI-escaped', 'job-\u001b[2J\u001b[31mpwned'],
  ['2,000-character', 'x'.repeat(2000)],
  ['blank-containing', 'a b'],
  ['empty', ''],
];

describe('a hostile m3ter', () => {
  const server = scriptedServerPerBlock();
  let client: M3terClient;
  beforeEach(() => {
    client = server.client({ baseDelayMs: 1, maxAttempts: 1 });
  });

  it.each(HOSTILE_IDS)(
    'a %s job id from the trigger is refused, its value never repeated',
    async (_what, id) => {
      server.on('POST /dataexports/adhoc', (_r, res) => json(res, 200, { jobId: id }));
      const err = await client
        .createAdhocExport({ sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(M3terResponseValidationError);
      expect((err as M3terResponseValidationError).issues[0]).toMatchObject({ path: 'jobId' });
      if (id.length > 3) expect((err as Error).message).not.toContain(id);
    },
  );

  it('a job list drops and counts a job with such an id, keeping the others', async () => {
    server.on('GET /dataexports/jobs', (_r, res) =>
      json(res, 200, {
        data: [
          { id: 'good-1', status: 'SUCCEEDED' },
          { id: '../../etc/passwd', status: 'SUCCEEDED' },
          { id: 'good-2', status: 'RUNNING' },
        ],
      }),
    );
    const page = await client.listExportJobs({});
    expect(page.data.map((j) => j.id)).toEqual(['good-1', 'good-2']);
    expect(page.rejected).toBe(1);
  });

  it('a schedule with such an id is refused', async () => {
    server.on('GET /dataexports/schedules/s1', (_r, res) => json(res, 200, { id: 's1\u001b[0m' }));
    await expect(client.getExportSchedule('s1')).rejects.toBeInstanceOf(M3terResponseValidationError);
  });

  it('the trigger activity claims nothing and exports nothing under a path-shaped job id', async () => {
    server.on('POST /dataexports/adhoc', (_r, res) => json(res, 200, { jobId: '../../etc/passwd' }));
    server.on('GET /dataexports/jobs', (_r, res) =>
      json(res, 200, {
        data: [{ id: '../../etc/passwd', status: 'PENDING', dateCreated: new Date().toISOString() }],
      }),
    );
    const claims = fakeJobClaims();
    const trigger = createTriggerActivity({
      m3ter: client,
      log: silentLog,
      clock: { now: Date.now },
      jobClaims: claims,
      tuning: { recoveryGraceMs: 0, claimPollMs: 5 },
    });
    const env = mockEnv({ attempt: 1, workflowExecution: { workflowId: 'wf', runId: 'r1' } });
    const err = await env
      .exec(() =>
        trigger({
          workflowId: 'wf',
          request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS'] },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FailureType.M3terResponseInvalid);
    expect(claims.claimCalls).toEqual([]);
  });

  it("m3ter's error text is capped and stripped of escapes and control characters", async () => {
    const message = `\u001b[31mdenied\u001b[0m\u0007 ${'spam '.repeat(5000)}\r\nFAKE LOG LINE level=info`;
    server.on('GET /dataexports/jobs/j1', (_r, res) => json(res, 400, { message }));
    const err = (await client.getExportJob('j1').catch((e: unknown) => e)) as M3terError;
    expect(err).toBeInstanceOf(M3terError);
    expect(err.m3terMessage!.length).toBeLessThanOrEqual(500);
    expect(err.m3terMessage!.startsWith('denied spam')).toBe(true);
    for (const text of [err.message, err.m3terMessage!]) expect(text).not.toMatch(/\p{Cc}/u);
    expect(err.message.length).toBeLessThanOrEqual(1000);
  });
});
