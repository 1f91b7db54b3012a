// npm run bench [-- --only detection|download] [--short 6 --long 2 --long-ms 360000] [--size-mib 1024 --rounds 3]
//
// Prints tables of figures measured side by side in one run:
//   detection  delay from ExportJob SUCCEEDED to the workflow noticing, and API calls per job, for the
//              production wait against a fixed 60-second poll (bench/detection.ts)
//   download   the worker's download path against `curl` on the same presigned URL (bench/download.ts)
// Exits non-zero only if something failed; the figures themselves are for people to read, not assertions.
import { parseArgs } from 'node:util';
import { benchDetection } from './detection';
import { benchDownload } from './download';

function printTable(rows: string[][]) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(rows.map((r) => r.map((v, c) => v.padEnd(widths[c])).join('  ')).join('\n') + '\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      short: { type: 'string', default: '6' },
      long: { type: 'string', default: '2' },
      'long-ms': { type: 'string', default: '360000' },
      'size-mib': { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const only = values.only;
  if (only !== undefined && only !== 'detection' && only !== 'download')
    throw new Error(`--only: must be "detection" or "download", got "${only}"`);
  // Download first: it needs the machine to itself, and the detection lanes keep a worker busy for minutes.
  if (only !== 'detection') {
    printTable(
      await benchDownload({
        sizeBytes: Number(values['size-mib']) * 2 ** 20,
        rounds: Number(values.rounds),
        say,
      }),
    );
  }
  if (only !== 'download') {
    const { rows, failures } = await benchDetection({
      shortJobs: Number(values.short),
      longJobs: Number(values.long),
      longMs: Number(values['long-ms']),
      say,
    });
    printTable(rows);
    if (failures) process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
