// `npm run demo`: the whole product on one machine, end to end, then exit. Seeds measurements through the
// sandbox's real ingest API, runs one usage, one operational and one bill CSV export as workflows on the
// real Temporal dev server, and prints their manifests.
import { randomUUID } from 'node:crypto';
import { createM3terClient } from '../../src/m3ter';
import type { Measurement } from '../../src/m3ter/schemas';
import { EXIT_EXPORT_FAILED, EXIT_OK } from '../../src/cli/exit-codes';
import { failureLine } from '../../src/cli/export-command';
import { startLocalStack } from './local-stack';
import { connectTemporalClient } from '../../src/temporal/connection';

const DAY = 86_400_000;

function utcMidnight(ms: number): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/** Three days of usage for three accounts and two meters, deterministic apart from the dates. */
export function demoMeasurements(now: number): Measurement[] {
  const start = utcMidnight(now).getTime() - 3 * DAY;
  const out: Measurement[] = [];
  for (let i = 0; i < 600; i++) {
    const account = ['acme', 'globex', 'initech'][i % 3];
    const meter = i % 2 === 0 ? 'api_calls' : 'storage_gb';
    out.push({
      uid: `demo-${i}`,
      meter,
      account,
      ts: new Date(start + Math.floor((i * 3 * DAY) / 600)).toISOString(),
      measure: meter === 'api_calls' ? { calls: 1 + (i % 7) } : { gb: 0.5 * (1 + (i % 4)) },
      who: { region: i % 4 < 2 ? 'eu-west-1' : 'us-east-1' },
    });
  }
  return out;
}

export async function runDemo(opts: { exportDir: string }): Promise<number> {
  const say = (m: string) => process.stderr.write(`[demo] ${m}\n`);
  const stack = await startLocalStack({ exportDir: opts.exportDir, logLevel: 'warn', progress: say });
  try {
    const { config } = stack;
    say(`sandbox (not m3ter) at ${config.m3ter.apiUrl}; Temporal at ${config.temporal.address}`);
    const m3ter = createM3terClient(config.m3ter);
    const measurements = demoMeasurements(Date.now());
    for (let i = 0; i < measurements.length; i += 200) {
      await m3ter.submitMeasurements({ measurements: measurements.slice(i, i + 200) });
    }
    say(`seeded ${measurements.length} measurements through the ingest API`);

    const { Client } = await import('@temporalio/client');
    const connection = await connectTemporalClient(config.temporal.connection);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const today = utcMidnight(Date.now()).getTime();
    const runId = randomUUID().slice(0, 8);
    const exports = [
      {
        label: 'usage',
        type: 'adhocExportWorkflow',
        input: {
          name: 'demo-usage',
          request: {
            sourceType: 'USAGE',
            startDate: new Date(today - 3 * DAY).toISOString(),
            endDate: new Date(today + DAY).toISOString(),
          },
        },
      },
      {
        label: 'operational',
        type: 'adhocExportWorkflow',
        input: {
          name: 'demo-operational',
          request: { sourceType: 'OPERATIONAL', operationalDataTypes: ['ACCOUNTS', 'PLANS'] },
        },
      },
      {
        label: 'bills',
        type: 'billsCsvExportWorkflow',
        input: {
          name: 'demo-bills',
          request: {
            startDate: new Date(today - 30 * DAY).toISOString(),
            endDate: new Date(today + DAY).toISOString(),
            lineItemTypes: ['STANDING_CHARGE', 'USAGE'],
            limit: 500,
          },
        },
      },
    ];
    let failed = 0;
    try {
      const results = await Promise.allSettled(
        exports.map((e) =>
          client.workflow.execute(e.type, {
            taskQueue: config.temporal.taskQueue,
            workflowId: `demo:${e.label}:${runId}`,
            args: [e.input],
          }),
        ),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          process.stdout.write(
            `--- ${exports[i].label} export manifest\n${JSON.stringify(r.value, null, 2)}\n`,
          );
        } else {
          failed++;
          process.stdout.write(`--- ${exports[i].label} export ${failureLine(r.reason)}\n`);
        }
      });
    } finally {
      await connection.close();
    }
    say(failed ? `${failed} export(s) failed` : `all 3 exports done; files under ${config.exportDir}`);
    return failed ? EXIT_EXPORT_FAILED : EXIT_OK;
  } finally {
    await stack.stop();
  }
}
