// npm run bench [-- --only detection|download|downloads|scale|backfill|cluster|ingest] [--short 6 --long 2 --long-ms 360000]
//                  [--detection-jobs 1000 --detection-pending-ms 60000 --detection-running-ms 20000 --detection-spread-ms 40000]
//                  [--size-mib 1024 --rounds 3] [--downloads 100 --downloads-size-mib 32 --downloads-slots 8,100] [--exports 1000 --scale-running-ms 20000 --scale-memory image]
//                  [--cluster-exports 1000 --cluster-workers 1,2,3 --cluster-running-ms 20000 --cluster-budget 25 --cluster-server-defaults --cluster-nice 6]
//
// Prints tables of figures measured side by side in one run:
//   detection  delay from ExportJob SUCCEEDED to the workflow noticing, and API calls per job, for the
//              production wait against a fixed 60-second poll (bench/detection.ts); then, with 1,000 jobs
//              waiting at once on one worker, the scaled status reads against one call a second
//              (bench/detection-at-scale.ts)
//   download   the worker's download path against `curl` on the same presigned URL (bench/download.ts)
//   downloads  many downloads started at once, through the download slots and without a bound: wall time
//              and peak RSS growth (bench/concurrent-downloads.ts)
//   scale      many concurrent exports on one worker process: completion, RSS, m3ter calls (bench/scale.ts)
//   backfill   a year of daily windows through one worker: wall time against its floor, history, duplicates
//              (bench/backfill.ts; --backfill-windows 365 --backfill-concurrency 10 --backfill-job-ms 5000)
//   cluster    the same exports on 1, 2 and 3 worker processes sharing one m3ter budget, on the Temporal
//              server backed by PostgreSQL: wall time against the rate-limit floor, calls, 429s, RSS per
//              worker (bench/cluster.ts; --cluster-budget 25 is the M3TER_MAX_REQUESTS_PER_SECOND they get)
//   ingest     one file of measurements through one worker at m3ter's Ingest limit: wall time against the
//              floor (batches / rate), requests per batch, RSS, duplicates (bench/ingest.ts;
//              --ingest-measurements 1000000 --ingest-rate 50 --ingest-concurrency 16)
// Exits non-zero only if something failed; the figures themselves are for people to read, not assertions.
import { parseArgs } from 'node:util';
import { benchBackfill } from './backfill';
import { benchCluster } from './cluster';
import { benchDetection } from './detection';
import { benchDetectionAtScale } from './detection-at-scale';
import { benchConcurrentDownloads } from './concurrent-downloads';
import { benchDownload } from './download';
import { benchIngest } from './ingest';
import { benchScale } from './scale';
import { imageAllocatorEnv, memorySettings, MemorySettings } from './compiled-install';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { nodeFlagsFor, runningMajor } from '../src/runtime/heap-flags';

function printTable(rows: string[][]) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(rows.map((r) => r.map((v, c) => v.padEnd(widths[c])).join('  ')).join('\n') + '\n');
}

/**
 * The download benches run the worker's download path in this process, so it must run as the image runs
 * the worker: node started with the image's heap flags, glibc with its `MALLOC_*`. When either is missing,
 * the bench runs again in a node that has them, and exits with its status. glibc reads its settings when
 * the process starts, so they are then taken out of the environment: the sandbox, curl and the other tools
 * run as they would without the worker, and the benches' worker processes get their settings explicitly.
 */
function rerunAsTheImage(): number | undefined {
  const missing = nodeFlagsFor(runningMajor()).filter((f) => !process.execArgv.includes(f));
  const malloc = imageAllocatorEnv();
  const mallocSet = Object.entries(malloc).every(([name, value]) => process.env[name] === value);
  if (missing.length === 0 && mallocSet) {
    for (const name of Object.keys(malloc)) delete process.env[name];
    return undefined;
  }
  const root = path.resolve(__dirname, '..');
  const args = [...process.execArgv, ...missing, path.join(root, 'bin/run-ts.js'), 'bench/index.ts'];
  const child = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], {
    cwd: root,
    env: { ...process.env, ...malloc },
    stdio: 'inherit',
  });
  return child.status ?? 1;
}

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      short: { type: 'string', default: '6' },
      long: { type: 'string', default: '2' },
      'long-ms': { type: 'string', default: '360000' },
      'detection-jobs': { type: 'string', default: '1000' },
      // Jobs stay PENDING until every export has been triggered within the default budget.
      'detection-pending-ms': { type: 'string', default: '60000' },
      'detection-running-ms': { type: 'string', default: '20000' },
      'detection-spread-ms': { type: 'string', default: '40000' },
      'size-mib': { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '3' },
      downloads: { type: 'string', default: '100' },
      'downloads-size-mib': { type: 'string', default: '32' },
      // The default MAX_CONCURRENT_DOWNLOADS, and as many slots as downloads.
      'downloads-slots': { type: 'string', default: '8,100' },
      exports: { type: 'string', default: '1000' },
      'scale-running-ms': { type: 'string', default: '20000' },
      // One round per memory setting, in this order (bench/compiled-install.ts, MemorySettings); jemalloc
      // needs the library installed (libjemalloc2).
      'scale-memory': { type: 'string', default: 'image' },
      'backfill-windows': { type: 'string', default: '365' },
      'backfill-concurrency': { type: 'string', default: '10' },
      'backfill-job-ms': { type: 'string', default: '5000' },
      'cluster-exports': { type: 'string', default: '1000' },
      'cluster-workers': { type: 'string', default: '1,2,3' },
      'cluster-running-ms': { type: 'string', default: '20000' },
      // The deployment default, so the rounds show what an unconfigured deployment gets.
      'cluster-budget': { type: 'string', default: '25' },
      // Off: the server runs with the dynamic config docker-compose.yml ships, as a deployment would.
      'cluster-server-defaults': { type: 'boolean', default: false },
      // The CPU weight docker-compose.yml gives its workers against the server's (cpu_shares 256 of 1024;
      // niceness 6 weighs 272 of 1024), as a deployment would run; 0 shares the machine as it comes.
      'cluster-nice': { type: 'string', default: '6' },
      'ingest-measurements': { type: 'string', default: '1000000' },
      'ingest-rate': { type: 'string', default: '50' },
      'ingest-concurrency': { type: 'string', default: '16' },
    },
  });
  const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const only = values.only;
  const sections = ['download', 'downloads', 'scale', 'detection', 'backfill', 'cluster', 'ingest'];
  if (only !== undefined && !sections.includes(only))
    throw new Error(`--only: must be one of ${sections.join(', ')}; got "${only}"`);
  // Download first: it needs the machine to itself, and the detection lanes keep a worker busy for minutes.
  if (only === undefined || only === 'download') {
    printTable(
      await benchDownload({
        sizeBytes: Number(values['size-mib']) * 2 ** 20,
        rounds: Number(values.rounds),
        say,
      }),
    );
  }
  if (only === undefined || only === 'downloads') {
    printTable(
      await benchConcurrentDownloads({
        downloads: Number(values.downloads),
        sizeBytes: Number(values['downloads-size-mib']) * 2 ** 20,
        slotCounts: String(values['downloads-slots']).split(',').map(Number),
        say,
      }),
    );
  }
  if (only === undefined || only === 'scale') {
    const settings = values['scale-memory'].split(',');
    const known: readonly string[] = Object.values(MemorySettings);
    const unknown = settings.filter((a) => !known.includes(a));
    if (unknown.length)
      throw new Error(`--scale-memory: each one of ${known.join(', ')}; got "${unknown.join(', ')}"`);
    const table: string[][] = [];
    for (const memory of settings as MemorySettings[]) {
      const { rows, failures } = await benchScale({
        exports: Number(values.exports),
        runningMs: Number(values['scale-running-ms']),
        memory,
        say,
      });
      table.push(...(table.length ? rows.slice(1) : rows));
      if (failures) process.exitCode = 1;
    }
    printTable(table);
    for (const memory of settings as MemorySettings[]) {
      const { env, nodeFlags } = memorySettings(memory);
      const set = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
      console.log(
        `${memory}: node ${nodeFlags.join(' ') || '(no flags)'}; ${set.join(' ') || '(no MALLOC_*)'}`,
      );
    }
    console.log('');
  }
  // Either part of the detection section is skipped with 0 jobs (--short 0 --long 0, --detection-jobs 0).
  if ((only === undefined || only === 'detection') && Number(values.short) + Number(values.long) > 0) {
    const { rows, failures } = await benchDetection({
      shortJobs: Number(values.short),
      longJobs: Number(values.long),
      longMs: Number(values['long-ms']),
      say,
    });
    printTable(rows);
    if (failures) process.exitCode = 1;
  }
  if ((only === undefined || only === 'detection') && Number(values['detection-jobs']) > 0) {
    const atScale = await benchDetectionAtScale({
      jobs: Number(values['detection-jobs']),
      pendingMs: Number(values['detection-pending-ms']),
      runningMs: Number(values['detection-running-ms']),
      spreadMs: Number(values['detection-spread-ms']),
      say,
    });
    printTable(atScale.rows);
    if (atScale.failures) process.exitCode = 1;
  }
  if (only === undefined || only === 'backfill') {
    const { rows, failures } = await benchBackfill({
      windows: Number(values['backfill-windows']),
      concurrency: Number(values['backfill-concurrency']),
      jobMs: Number(values['backfill-job-ms']),
      ratePerSec: 50,
      say,
    });
    printTable(rows);
    if (failures) process.exitCode = 1;
  }
  if (only === undefined || only === 'cluster') {
    const workerCounts = values['cluster-workers'].split(',').map(Number);
    if (workerCounts.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(
        `--cluster-workers: positive whole numbers separated by commas; got "${values['cluster-workers']}"`,
      );
    const niceness = values['cluster-nice'].split(',').map(Number);
    if (
      niceness.some((n) => !Number.isInteger(n) || n < 0 || n > 19) ||
      niceness.some((n, i) => i > 0 && n < niceness[i - 1])
    )
      throw new Error(
        `--cluster-nice: whole numbers from 0 to 19 in ascending order, separated by commas (niceness only ` +
          `goes up without privileges); got "${values['cluster-nice']}"`,
      );
    const { rows, footer, failures } = await benchCluster({
      exports: Number(values['cluster-exports']),
      workerCounts,
      runningMs: Number(values['cluster-running-ms']),
      budget: Number(values['cluster-budget']),
      serverDefaults: values['cluster-server-defaults'],
      niceness,
      say,
    });
    printTable(rows);
    console.log(footer.join('\n') + '\n');
    if (failures) process.exitCode = 1;
  }
  if (only === undefined || only === 'ingest') {
    const { rows, failures } = await benchIngest({
      measurements: Number(values['ingest-measurements']),
      ratePerSec: Number(values['ingest-rate']),
      concurrency: Number(values['ingest-concurrency']),
      say,
    });
    printTable(rows);
    if (failures) process.exitCode = 1;
  }
}

const rerun = rerunAsTheImage();
if (rerun !== undefined) process.exit(rerun);
else
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
