// `m3ter-exports ingest` end to end: the REAL CLI process, the REAL Temporal dev server (jest global setup),
// a REAL sandbox process validating meters, and the worker's own wiring in this process. Rejected rows come
// back with their lines, the same file twice sends nothing, batches fill up to just under 512,000 bytes, a
// body refused with 403 is split, a row that can never fit is refused before anything is sent, and a file
// whose ingest failed is sent again under the same uids.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ingestProgressQuery, type IngestProgress } from '../../../src/contract/ingest';
import { derivedUid } from '../../../src/ingest/uid';
import { runCli } from '../../support/cli-process';
import { startStack, type Stack } from '../../support/stack';
import { waitFor } from '../../support/wait-for';

const MEASUREMENTS = 'POST /organizations/:orgId/measurements';
const METERS = { 'api-calls': { required: ['measure.quantity'] }, 'storage-gb': { required: [] } };

interface CliIngest {
  workflowId: string;
  status: string;
  progress?: IngestProgress;
}

describe('ingest (CLI + dev server + sandbox process)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ name: 'ingest-cli', sandboxConfig: { ingestMeters: METERS } });
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  const cli = (args: string[]) => runCli(['ingest', ...args], stack.env);
  const ingests = (stdout: string) => (JSON.parse(stdout) as { ingests: CliIngest[] }).ingests;
  const posts = async () =>
    ((await stack.sandbox.admin.get('/counters')) as { routes: Record<string, number> }).routes[
      MEASUREMENTS
    ] ?? 0;
  const stored = async (uidPrefix: string) =>
    (await stack.sandbox.admin.get(`/measurements?uidPrefix=${encodeURIComponent(uidPrefix)}`)) as {
      matching: number;
      duplicatesReceived: number;
    };
  const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const write = (name: string, text: string) => {
    const file = path.join(stack.dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('ingests every good row once and reports every rejected row with its line; the same file again sends nothing', async () => {
    const rows = ['uid,meter,account,ts,measure.quantity,where.region'];
    const bad = new Map<number, string>();
    for (let i = 0; i < 2_000; i++) {
      const line = i + 2;
      if (i === 500) {
        rows.push(',no-such-meter,acct-001,2026-01-01T00:00:00Z,1,eu');
        bad.set(line, 'UndefinedMeter');
      } else if (i === 900) {
        rows.push(',api-calls,acct-001,2026-01-01T00:00:00Z,,eu');
        bad.set(line, 'MissingField');
      } else if (i === 1200 || i === 1300) {
        rows.push('own-dup,storage-gb,acct-002,2026-01-01T00:00:00Z,2,us');
        if (i === 1300) bad.set(line, 'DuplicateUid');
      } else
        rows.push(
          `,api-calls,acct-00${1 + (i % 5)},2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z,${i},eu`,
        );
    }
    const file = write('usage.csv', rows.join('\n') + '\n');
    const hash = sha(file);

    const r = await cli([file, '--wait', '--json', '--settle', '2s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const [run] = ingests(r.stdout);
    expect(run.status).toBe('COMPLETED');
    const rej = run.progress!.rejections!;
    expect(rej).toMatchObject({
      rejected: 3,
      accepted: 1_997,
      byType: { UndefinedMeter: 1, MissingField: 1, DuplicateUid: 1 },
      resendDuplicates: 0,
    });
    expect(new Map(rej.firstRejected.map((x) => [x.line, x.type]))).toEqual(bad);
    expect(rej.firstRejected.find((x) => x.line === 502)?.uid).toBe(derivedUid(hash, 502));
    const report = fs.readFileSync(`${file}.rejected.csv`, 'utf8').trim().split('\n');
    expect(report[0]).toBe('line,uid,type,reason,row');
    expect(report.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([...bad.keys()]);
    // 1,996 derived uids stored (1,998 sent, two rejected) and the one own uid; nothing twice.
    expect(await stored(`ig-${hash.slice(0, 24)}-`)).toMatchObject({
      matching: 1_996,
      duplicatesReceived: 1,
    });

    const before = await posts();
    const again = await cli([file, '--json']);
    expect(again.code).toBe(0);
    expect(ingests(again.stdout)).toEqual([{ workflowId: run.workflowId, file, status: 'DONE' }]);
    expect(await posts()).toBe(before);
  });

  it('sends a file whose ingest failed again under the same uids, so every row is stored once', async () => {
    const rows = ['meter,account,ts,measure.quantity'];
    for (let i = 0; i < 6_000; i++)
      rows.push(`api-calls,acct-003,2026-01-02T00:00:${String(i % 60).padStart(2, '0')}Z,${i}`);
    const file = write('resend.csv', rows.join('\n') + '\n');
    const prefix = `ig-${sha(file).slice(0, 24)}-`;
    // Slow batches, one at a time: the run can be failed once some of its 6 batches are stored.
    await stack.sandbox.admin.post('/faults', { route: MEASUREMENTS, latencyMs: 500 });
    try {
      const first = await cli([file, '--json', '--concurrency', '1', '--settle', '1s']);
      expect(first.code).toBe(0);
      const [{ workflowId, status }] = ingests(first.stdout);
      expect(status).toBe('STARTED');
      const { runId } = await stack.client.workflow.getHandle(workflowId).describe();
      const firstRun = stack.client.workflow.getHandle(workflowId, runId);
      await waitFor(
        async () => (await firstRun.query(ingestProgressQuery)).batchesSent >= 2,
        'two batches stored',
      );
      // m3ter refuses the next batch outright: the ingest fails with some rows sent.
      await stack.sandbox.admin.post('/faults', { route: MEASUREMENTS, failNext: { count: 1, status: 400 } });
      await expect(firstRun.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const before = await stored(prefix);
      expect(before.matching).toBeGreaterThanOrEqual(2_000);
      expect(before.matching).toBeLessThan(6_000);
      await stack.sandbox.admin.del('/faults');

      const again = await cli([file, '--wait', '--settle', '1s']);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain(
        `sending ${file} again as ingest ${workflowId}: its last run ended FAILED`,
      );
      const latest = await stack.client.workflow.getHandle(workflowId).describe();
      expect(latest.runId).not.toBe(runId);
      expect(latest.status.name).toBe('COMPLETED');
      // Every row once, under the uids of the first run: the rows it had sent arrived again and were dropped.
      expect(await stored(prefix)).toMatchObject({
        matching: 6_000,
        duplicatesReceived: before.duplicatesReceived + before.matching,
      });

      const third = await cli([file, '--json']);
      expect(ingests(third.stdout)).toEqual([{ workflowId, file, status: 'DONE' }]);
    } finally {
      await stack.sandbox.admin.del('/faults');
    }
  });

  it('fills batches up to just under 512,000 bytes and splits a body m3ter refuses with 403', async () => {
    // ~5 KB rows: about 100 to a batch, so the byte limit, not the count, closes each one.
    const rows = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({
        meter: 'storage-gb',
        account: 'acct-003',
        ts: '2026-01-02T00:00:00Z',
        other: { pad: 'p'.repeat(4_900 + (i % 17)) },
        measure: { gb: i },
      }),
    );
    const file = write('big.jsonl', rows.join('\n'));
    const hash = sha(file);
    await stack.sandbox.admin.post('/faults', { route: MEASUREMENTS, failNext: { count: 1, status: 403 } });
    try {
      const r = await cli([file, '--wait', '--json', '--settle', '1s']);
      expect(r.code).toBe(0);
      const p = ingests(r.stdout)[0].progress!;
      expect(p.rowsSent).toBe(600);
      expect(p.batchesSent).toBe(Math.ceil(p.bytesSent / 512_000));
      expect(p.bytesSent / p.batchesSent).toBeGreaterThan(450_000);
      // One batch refused as too large went again as two halves.
      expect(p.requests).toBe(p.batchesSent + 2);
      expect(p.rejections).toMatchObject({ rejected: 0, accepted: 600 });
      expect((await stored(`ig-${hash.slice(0, 24)}-`)).matching).toBe(600);
    } finally {
      await stack.sandbox.admin.del('/faults');
    }
  });

  it('refuses a row too large for any request, an unreadable and an empty file, before sending anything', async () => {
    const huge = JSON.stringify({
      meter: 'storage-gb',
      account: 'acct-001',
      ts: '2026-01-01T00:00:00Z',
      other: { pad: 'x'.repeat(520_000) },
    });
    const ok = JSON.stringify({ meter: 'storage-gb', account: 'acct-001', ts: '2026-01-01T00:00:00Z' });
    const file = write('huge.jsonl', `${ok}\n${huge}\n${ok}\n`);
    const empty = write('empty.csv', '');
    const before = await posts();
    const r = await cli([file, empty, path.join(stack.dir, 'missing.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2: row: is `);
    expect(r.stderr).toContain('can never be sent');
    expect(r.stderr).toContain(`${empty}: is empty`);
    expect(r.stderr).toContain('missing.csv: cannot be read (ENOENT)');
    expect(await posts()).toBe(before);
  });
});
