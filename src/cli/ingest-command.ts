// `m3ter-exports ingest <file|dir|s3://bucket/prefix>...`, `ingest status <id>`, `ingest cancel <id>`.
//
// Every file is checked in full before anything is started (exit 2 with every problem by file, line and
// field). Each file is then one ingestWorkflow under an id derived from its content (startOnce): the same
// file again attaches to its running ingest, is skipped once done, and is sent again under the same uids
// when its ingest ended without completing. `--force` sends it again with new uids.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadIngestCommandConfig, type IngestConfig, type TemporalConfig } from '../config/config';
import { parseDuration, DURATION_RULE } from '../config/durations';
import {
  createIngestInputSchema,
  DEFAULT_SETTLE_MS,
  describeSource,
  ingestProgressQuery,
  ingestWorkflowId,
  type IngestInput,
} from '../contract/ingest';
import { createS3Client } from '../storage/s3';
import { startOnce } from '../temporal/start-once';
import { checkFile, DEFAULT_MAX_LISTED_ISSUES, type CheckedFile, type LineIssue } from '../ingest/check-file';
import { RESEND_SAME_UIDS_WITHIN_MS } from '../ingest/uid';
import { expandArgument } from '../ingest/source';
import type { AlertRouting } from '../contract/alert-routing';
import { DefinitionsError } from '../definitions/parse';
import { DEFAULT_CHANNEL_NAME, namedChannelRouting } from '../definitions/routing';
import { CliInputError, EXIT_OK } from './exit-codes';
import { DEFAULT_DEFINITIONS_FILE } from './schedules-command';
import type { Io } from './io';
import { registerWorkflowIdCommand, type CliContext, type WorkflowIdAction } from './program';
import {
  cancelRunningWorkflowOfType,
  describeWorkflowOfType,
  withTemporalClient,
  type CommandWorkflowType,
} from '../temporal/client';
import {
  exitCodeOf,
  finalOutcome,
  formatOutcome,
  waitWithProgress,
  type IngestHandle,
  type IngestOutcome,
} from './ingest-progress';

export interface IngestFlags {
  dryRun?: boolean;
  wait?: boolean;
  force?: boolean;
  json?: boolean;
  /** How long to await m3ter's rejection events after the last batch (a duration). */
  settle?: string;
  concurrency?: string;
  /** Alert channels told when m3ter rejects rows: names from `definitions`, comma-separated, or `default`. */
  alert?: string;
  /** The definitions file declaring the `--alert` channels. */
  definitions?: string;
}

interface Prepared {
  files: CheckedFile[];
  salt?: string;
  settleMs: number;
  concurrency?: number;
  alerting?: AlertRouting;
}

/** `--alert`: the channels as the definitions file wrote them; problems named by flag, none thrown. */
function alertRouting(flags: IngestFlags, problems: string[]): AlertRouting | undefined {
  if (flags.alert === undefined) return undefined;
  const names = flags.alert
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) {
    problems.push('--alert: name one or more alert channels, comma-separated, or default');
    return undefined;
  }
  if (names.includes(DEFAULT_CHANNEL_NAME) && names.length > 1) {
    problems.push(
      `--alert: ${DEFAULT_CHANNEL_NAME} (the worker's own channel) cannot be combined with others`,
    );
    return undefined;
  }
  try {
    return namedChannelRouting(names, flags.definitions ?? DEFAULT_DEFINITIONS_FILE);
  } catch (err) {
    if (!(err instanceof DefinitionsError)) throw err;
    problems.push(...err.problems.map((p) => `--alert: ${p}`));
    return undefined;
  }
}

function flagProblems(flags: IngestFlags): { problems: string[]; settleMs: number; concurrency?: number } {
  const problems: string[] = [];
  let settleMs = DEFAULT_SETTLE_MS;
  if (flags.settle !== undefined) {
    try {
      settleMs = parseDuration(flags.settle);
    } catch {
      problems.push(`--settle: ${DURATION_RULE}`);
    }
  }
  let concurrency: number | undefined;
  if (flags.concurrency !== undefined) {
    concurrency = Number(flags.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
      problems.push('--concurrency: must be an integer from 1 to 64');
  }
  return { problems, settleMs, ...(concurrency !== undefined ? { concurrency } : {}) };
}

function formatIssue(i: LineIssue): string {
  return i.line > 0 ? `${i.file}:${i.line}: ${i.field}: ${i.message}` : `${i.file}: ${i.message}`;
}

/** Expands and checks every argument; throws CliInputError naming every problem (capped, all counted). */
export async function prepareIngest(
  args: string[],
  flags: IngestFlags,
  config: IngestConfig,
  io: Io,
): Promise<Prepared> {
  const { problems, settleMs, concurrency } = flagProblems(flags);
  const alerting = alertRouting(flags, problems);
  let s3: S3Client | undefined;
  const s3Client = () => (s3 ??= createS3Client(config.s3));
  const salt = flags.force ? randomBytes(8).toString('hex').slice(0, 8) : undefined;
  const files: CheckedFile[] = [];
  let issueCount = 0;
  const listed: string[] = [];
  for (const arg of args) {
    let sources;
    try {
      sources = await expandArgument(arg, s3Client);
    } catch (err) {
      problems.push(`${arg}: cannot be read (${(err as { code?: string }).code ?? (err as Error).name})`);
      continue;
    }
    if (sources.length === 0) problems.push(`${arg}: holds no .csv, .jsonl or .ndjson file`);
    for (const source of sources) {
      if (!flags.json) io.stderr(`checking ${describeSource(source)} ...`);
      const r = await checkFile(source, { ...(s3 ? { s3 } : {}), ...(salt ? { salt } : {}) });
      issueCount += r.issueCount;
      for (const i of r.issues) if (listed.length < DEFAULT_MAX_LISTED_ISSUES) listed.push(formatIssue(i));
      if (r.file) files.push(r.file);
    }
  }
  s3?.destroy();
  const all = [...problems, ...listed];
  const total = problems.length + issueCount;
  if (total > all.length) all.push(`... ${total - all.length} more problems (${total} in all)`);
  if (all.length > 0)
    throw new CliInputError(
      [
        `${total} problem${total === 1 ? '' : 's'} found; nothing was sent:`,
        ...all.map((l) => `  ${l}`),
      ].join('\n'),
      all,
    );
  return {
    files,
    ...(salt ? { salt } : {}),
    settleMs,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(alerting ? { alerting } : {}),
  };
}

/** The workflow input for one checked file, validated with the workflow's own schema. */
export function ingestInput(f: CheckedFile, p: Prepared): IngestInput {
  return createIngestInputSchema().parse({
    source: f.source,
    name: f.name,
    format: f.format,
    sha256: f.sha256,
    sizeBytes: f.sizeBytes,
    rows: f.rows,
    ...(f.header !== undefined ? { header: f.header } : {}),
    dataOffset: f.dataOffset,
    dataLine: f.dataLine,
    ...(p.salt ? { salt: p.salt } : {}),
    settleMs: p.settleMs,
    ...(p.concurrency !== undefined ? { concurrency: p.concurrency } : {}),
    ...(p.alerting ? { alerting: p.alerting } : {}),
  });
}

/** Closed without completing: the id may run again. */
const ENDED_UNFINISHED = new Set(['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

type StartState = 'started' | 'resent' | 'attached' | 'done' | 'ended';
const RESEND_DAYS = Math.round(RESEND_SAME_UIDS_WITHIN_MS / 86_400_000);

async function startFile(
  client: Client,
  temporal: TemporalConfig,
  f: CheckedFile,
  p: Prepared,
): Promise<{ handle: IngestHandle; state: StartState; earlier?: string }> {
  const workflowId = ingestWorkflowId(f.sha256, p.salt);
  const handle = client.workflow.getHandle(workflowId) as IngestHandle;
  // An ingest that ended without completing is sent again under the same uids, so the rows it had sent are
  // ingested once, but only while m3ter still deduplicates them (src/ingest/uid.ts).
  const earlier = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  const resendable =
    earlier !== undefined &&
    ENDED_UNFINISHED.has(earlier.status.name) &&
    Date.now() - earlier.startTime.getTime() < RESEND_SAME_UIDS_WITHIN_MS;
  const started = await startOnce(client, {
    workflowType: 'ingestWorkflow',
    workflowId,
    taskQueue: temporal.taskQueue,
    args: [ingestInput(f, p)],
    memo: { file: describeSource(f.source) },
    againAfterFailure: resendable,
  });
  if (started)
    return earlier ? { handle, state: 'resent', earlier: earlier.status.name } : { handle, state: 'started' };
  const d = await handle.describe();
  if (d.status.name === 'RUNNING') return { handle, state: 'attached' };
  return { handle, state: d.status.name === 'COMPLETED' ? 'done' : 'ended' };
}

export async function runIngestCommand(
  temporal: TemporalConfig,
  config: IngestConfig,
  args: string[],
  flags: IngestFlags,
  io: Io,
): Promise<number> {
  const prepared = await prepareIngest(args, flags, config, io);
  if (flags.dryRun) {
    const out = prepared.files.map((f) => ({
      file: describeSource(f.source),
      format: f.format,
      rows: f.rows,
      ownUids: f.ownUids,
      bytes: f.sizeBytes,
      sha256: f.sha256,
      workflowId: ingestWorkflowId(f.sha256, prepared.salt),
    }));
    if (flags.json) io.stdout(JSON.stringify({ dryRun: true, files: out }, null, 2));
    else
      for (const f of out)
        io.stdout(
          `${f.file}: ${f.rows} measurements (${f.ownUids} with their own uid), ${f.bytes} bytes, ok -> ${f.workflowId}`,
        );
    return EXIT_OK;
  }
  return withTemporalClient(temporal, async (client) => {
    const outcomes: IngestOutcome[] = [];
    const handles: Array<{ handle: IngestHandle; file: string }> = [];
    for (const f of prepared.files) {
      const { handle, state, earlier } = await startFile(client, temporal, f, prepared);
      const file = describeSource(f.source);
      if (!flags.json)
        io.stderr(
          {
            started: `started ingest ${handle.workflowId} for ${file} (${f.rows} measurements)`,
            resent: `sending ${file} again as ingest ${handle.workflowId}: its last run ended ${earlier}; the rows it sent go again under the same uids, which m3ter ingests once`,
            attached: `attached to the running ingest ${handle.workflowId} of ${file} (same content)`,
            done: `skipped ${file}: the same content was already ingested by ${handle.workflowId} (--force sends it again with new uids)`,
            ended: `skipped ${file}: its ingest ${handle.workflowId} ended without completing ${RESEND_DAYS} days ago or more, beyond m3ter's deduplication of its uids; see \`ingest status ${handle.workflowId}\` (--force sends it again with new uids)`,
          }[state],
        );
      handles.push({ handle, file });
      if (!flags.wait) outcomes.push({ workflowId: handle.workflowId, file, status: state.toUpperCase() });
    }
    if (flags.wait)
      for (const { handle, file } of handles) {
        const o = await waitWithProgress(handle, file, io, Boolean(flags.json));
        outcomes.push(o);
        if (!flags.json) io.stdout(formatOutcome(o));
      }
    if (flags.json) io.stdout(JSON.stringify({ ingests: outcomes }, null, 2));
    if (!flags.wait) return EXIT_OK;
    return Math.max(EXIT_OK, ...outcomes.map(exitCodeOf));
  });
}

const INGEST: CommandWorkflowType = { workflowType: 'ingestWorkflow', noun: 'an ingest' };

export const ingestStatus: WorkflowIdAction = (temporal, workflowId, o, io) =>
  withTemporalClient(temporal, async (client) => {
    const { handle, d } = await describeWorkflowOfType<IngestHandle>(client, workflowId, INGEST);
    const file = String(d.memo?.file ?? '');
    let outcome: IngestOutcome;
    if (d.status.name === 'RUNNING') {
      const progress = await handle.query(ingestProgressQuery).catch(() => undefined);
      outcome = {
        workflowId,
        file: progress?.file ?? file,
        status: 'RUNNING',
        ...(progress ? { progress } : {}),
      };
    } else outcome = await finalOutcome(handle, file);
    io.stdout(o.json ? JSON.stringify(outcome, null, 2) : formatOutcome(outcome));
    return exitCodeOf(outcome);
  });

export const ingestCancel: WorkflowIdAction = (temporal, workflowId, o, io) =>
  withTemporalClient(temporal, async (client) => {
    const { handle, d } = await cancelRunningWorkflowOfType<IngestHandle>(client, workflowId, INGEST);
    const outcome = await finalOutcome(handle, String(d.memo?.file ?? ''));
    io.stdout(o.json ? JSON.stringify(outcome, null, 2) : formatOutcome(outcome));
    return EXIT_OK;
  });

export function registerIngestCommand(program: Command, ctx: CliContext): void {
  const ingest = program
    .command('ingest')
    .description('send files of measurements (CSV, JSON Lines) to m3ter, exactly once, resumable')
    .argument('<files...>', 'files, directories (their .csv/.jsonl/.ndjson files) or s3://bucket/prefix')
    .option('--dry-run', 'check every file and print what would be sent; send nothing')
    .option('--wait', 'show progress until each ingest has settled; exit 1 if any row was rejected')
    .option('--force', 'send files again that were already ingested, with new uids')
    .option('--settle <duration>', "how long to await m3ter's rejection events after the last batch", '2m')
    .option('--concurrency <n>', 'batches in flight at once per file (1-64)')
    .option(
      '--alert <channels>',
      "alert channels told if m3ter rejects rows: names declared in --definitions, or default (the worker's)",
    )
    .option(
      '--definitions <path>',
      'the export definitions file declaring the --alert channels',
      DEFAULT_DEFINITIONS_FILE,
    )
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (files: string[], o: IngestFlags) => {
        const config = loadIngestCommandConfig();
        return runIngestCommand(config, config.ingest, files, o, ctx.io);
      }),
    );
  registerWorkflowIdCommand(
    ingest,
    ctx,
    'status',
    "an ingest's progress, or its report: accepted, rejected by type, the first rejected lines",
    ingestStatus,
  );
  registerWorkflowIdCommand(
    ingest,
    ctx,
    'cancel',
    'cancel an ingest: batches already sent stay ingested',
    ingestCancel,
  );
}
