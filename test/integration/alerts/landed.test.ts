// The landed event end to end on the dev server with a real sandbox process and a local signed-webhook
// receiver: every window of a backfill whose file is stored announces itself once on the export's
// onSuccess channel, although downloads and the webhook itself needed retries, and a second backfill over
// the same range (windows already exported) and a second claim of the same event send nothing more; and
// once per window when the worker process is SIGKILLed mid-backfill and a new one finishes it.
import fs from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { prepareBackfill } from '../../../src/cli/backfill-prepare';
import { claimAlert } from '../../../src/alerts/ledger';
import type { AlertReceiver } from '../../support/alert-receiver';
import {
  alertDeliveriesSettled,
  hourRange,
  pastHourBase,
  startAlertStack,
  startPreparedBackfill,
  HOUR,
  type AlertStack,
} from '../../support/alert-stack';
import { waitFor } from '../../support/wait-for';
import { spawnWorkerProcess } from '../../support/worker-process';

const SECRET = 'whsec-landed-it-2a7c4e9b01-0123456789abcdef';
const FILE_ROUTE = 'GET /files/:fileId';
const SCHEMA = JSON.parse(
  readFileSync(path.join(__dirname, '../../../docs/landed-event.schema.json'), 'utf8'),
);

const FILE = [
  'alerts:',
  '  - name: landing',
  '    type: webhook',
  '    url: ${LANDED_TEST_URL}',
  '    secret: ${LANDED_TEST_SECRET}',
  'exports:',
  '  - name: landed-hourly',
  '    kind: operational',
  '    request: { operationalDataTypes: [ACCOUNTS] }',
  '    window: hour',
  '    onSuccess: [landing]',
].join('\n');

describe('the landed event: one per stored window on the onSuccess channels', () => {
  let stack: AlertStack;
  let rx: AlertReceiver;
  let file: string;
  const base = pastHourBase();

  beforeAll(async () => {
    stack = await startAlertStack((url) => ({
      name: 'landed',
      channelEnv: { LANDED_TEST_URL: `${url}/landing`, LANDED_TEST_SECRET: SECRET },
      env: { MONITOR: 'off' },
    }));
    rx = stack.rx;
    file = path.join(stack.dir, 'm3ter-exports.yaml');
    fs.writeFileSync(file, FILE);
  });

  afterAll(() => stack?.close());

  function startBackfill(fromHour: number, hours: number, taskQueue = stack.taskQueue) {
    const prepared = prepareBackfill('landed-hourly', {
      file,
      ...hourRange(base, fromHour, hours),
      concurrency: '2',
    });
    return startPreparedBackfill(stack, prepared, taskQueue);
  }

  async function backfill(): Promise<void> {
    await (await startBackfill(0, 3)).result();
  }

  const landedIn = (fromHour: number, hours: number) =>
    rx.on('/landing').filter((r) => {
      const t = Date.parse((r.json as { window: { start: string } }).window.start);
      return t >= base + fromHour * HOUR && t < base + (fromHour + hours) * HOUR;
    });

  it('announces each of 3 windows once, signed and valid, through download and webhook retries', async () => {
    // Two downloads are refused once each (the download retries), and the webhook refuses its first POST.
    await stack.sandbox.admin.post('/faults', { route: FILE_ROUTE, failNext: { count: 2, status: 503 } });
    rx.script.push(503);
    try {
      await backfill();
    } finally {
      await stack.sandbox.admin.del('/faults');
    }
    const landed = await waitFor(
      () => (rx.on('/landing').length >= 3 ? rx.on('/landing') : undefined),
      'three landed events',
    );
    const bodies = landed.map((r) => r.json as Record<string, unknown> & { window: { start: string } });
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(SCHEMA);
    for (const b of bodies)
      expect({ valid: validate(b), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(new Set(bodies.map((b) => b.window.start)).size).toBe(3);
    expect(bodies.every((b) => b.exportName === 'landed-hourly' && b.type === 'export.landed')).toBe(true);
    expect(landed.every((r) => /^sha256=/.test(String(r.headers['x-m3ter-exports-signature'])))).toBe(true);
    // A storage location and the manifest beside it, never a download URL.
    for (const b of bodies) {
      expect(String(b.location)).toMatch(/^file:\/\//);
      expect(fs.existsSync(new URL(String(b.manifestLocation)))).toBe(true);
    }
    expect(JSON.stringify(bodies)).not.toMatch(/https?:\/\//);

    // The same range again: every window is already exported, nothing is announced again.
    await backfill();
    // A second claim of one window's event (what a retried activity would do) is refused.
    const again = await claimAlert(stack.client, stack.taskQueue, {
      kind: 'ExportLanded',
      jobId: String(bodies[0].jobId),
      message: 'again',
    });
    expect(again.claimed).toBe(false);
    await alertDeliveriesSettled(stack);
    expect(landedIn(0, 3)).toHaveLength(3);
    expect(rx.on('/default')).toEqual([]);
  });

  it('announces each window once when the worker is SIGKILLed mid-backfill and another finishes it', async () => {
    const queue = `${stack.taskQueue}-process`;
    const env = {
      ...stack.env,
      TEMPORAL_TASK_QUEUE: queue,
      EXPORT_DIR: path.join(stack.dir, 'kill-exports'),
      MONITOR: 'off',
      LANDED_TEST_URL: `${rx.url}/landing`,
      LANDED_TEST_SECRET: SECRET,
    };
    let proc = await spawnWorkerProcess(env);
    try {
      await stack.sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 1_500 } });
      const h = await startBackfill(10, 4, queue);
      // Killed once the first window has landed and others are in flight.
      await waitFor(() => landedIn(10, 4).length >= 1, 'the first landed event', { intervalMs: 100 });
      await proc.kill('SIGKILL');
      proc = await spawnWorkerProcess(env);
      const summary = await h.result();
      expect(summary.totals.succeeded).toBe(4);
      await waitFor(() => landedIn(10, 4).length >= 4, 'four landed events');
      await alertDeliveriesSettled(stack, queue);
      // One claim per window's job: the ledger holds one delivery for each.
      const claims = await stack.client.workflow.count(
        `WorkflowType = 'alertDeliveryWorkflow' AND TaskQueue = '${queue}'`,
      );
      expect(claims.count).toBe(4);
      // A delivery whose 2xx came just before the kill is sent again by the next worker (its completion was
      // lost): the same event, with the same jobId a receiver drops it by. No window has a second job.
      const bodies = landedIn(10, 4).map((r) => r.json as { jobId: string; window: { start: string } });
      const jobsByWindow = new Map<string, Set<string>>();
      for (const b of bodies)
        jobsByWindow.set(b.window.start, (jobsByWindow.get(b.window.start) ?? new Set()).add(b.jobId));
      expect(jobsByWindow.size).toBe(4);
      expect([...jobsByWindow.values()].map((jobs) => jobs.size)).toEqual([1, 1, 1, 1]);
      // Only deliveries in flight at the kill can repeat: at most the backfill's concurrency of 2.
      expect(bodies.length).toBeLessThanOrEqual(6);
    } finally {
      await proc.stop();
      await stack.sandbox.admin.post('/config', { jobTiming: { pendingMs: 100, runningMs: 200 } });
    }
  });
});
