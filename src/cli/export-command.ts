// `m3ter-exports export usage|operational|bills`: validate (zod, before anything starts), start or attach to
// the export workflow under a deterministic id, optionally wait with live status, print the manifest.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { exportWorkflowId, type ExportKind } from '../export-ids';
import { M3terRequestValidationError } from '../m3ter/errors';
import { BillsCsvRequestSchema, parseAdhocExportRequest } from '../m3ter/schemas';
import { validateRequest } from '../m3ter/validation';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';

export interface ExportCommonFlags {
  name?: string;
  id?: string;
  storage?: string;
  wait?: boolean;
  json?: boolean;
}

export interface PreparedExport {
  kind: ExportKind;
  workflowType: 'adhocExportWorkflow' | 'billsCsvExportWorkflow';
  workflowId: string;
  input: Record<string, unknown>;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Validates everything up front; throws CliInputError listing every problem. No I/O. */
export function prepareExport(
  kind: ExportKind,
  body: Record<string, unknown>,
  flags: ExportCommonFlags,
  now = Date.now(),
): PreparedExport {
  const problems: string[] = [];
  if (flags.name !== undefined && !NAME_PATTERN.test(flags.name)) {
    problems.push('--name: must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  if (flags.id !== undefined && (flags.id.trim() === '' || flags.id.length > 255)) {
    problems.push('--id: must be 1-255 characters');
  }
  const storage = flags.storage ?? 'local';
  if (storage !== 'local' && storage !== 'none') problems.push('--storage: must be one of local, none');
  if (kind === 'bills' && storage === 'none')
    problems.push('--storage: bills exports are always stored (none is for usage/operational)');

  let request: unknown;
  try {
    request =
      kind === 'bills'
        ? validateRequest(BillsCsvRequestSchema, body, 'bills CSV request')
        : parseAdhocExportRequest(body, now);
  } catch (err) {
    if (err instanceof M3terRequestValidationError)
      problems.push(...err.issues.map((i) => `${i.path || '(body)'}: ${i.message}`));
    else throw err;
  }
  if (problems.length)
    throw new CliInputError(`invalid ${kind} export:\n  ${problems.join('\n  ')}`, problems);

  const workflowId = flags.id ?? exportWorkflowId(kind, request as Record<string, unknown>, flags.name);
  return kind === 'bills'
    ? { kind, workflowType: 'billsCsvExportWorkflow', workflowId, input: { request, name: flags.name } }
    : {
        kind,
        workflowType: 'adhocExportWorkflow',
        workflowId,
        input: { request, storage, name: flags.name },
      };
}

export interface StartedExport {
  handle: WorkflowHandle;
  attached: boolean;
}

/**
 * Starts the workflow, or attaches to the run that already owns this id: a running one (USE_EXISTING),
 * or one that already completed successfully (the reuse policy refuses a second export of the same request).
 */
export async function startOrAttach(
  client: Client,
  taskQueue: string,
  p: PreparedExport,
): Promise<StartedExport> {
  try {
    const existing = await client.workflow
      .getHandle(p.workflowId)
      .describe()
      .catch(() => undefined);
    const handle = await client.workflow.start(p.workflowType, {
      taskQueue,
      workflowId: p.workflowId,
      args: [p.input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    const attached = existing?.status.name === 'RUNNING' && existing.runId === handle.firstExecutionRunId;
    return { handle, attached };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle(p.workflowId), attached: true };
    }
    throw err;
  }
}

export interface ExportStatusView {
  phase?: string;
  jobId?: string;
  jobStatus?: string;
  polls?: number;
  bytesWritten?: number;
}

function statusLine(s: ExportStatusView): string {
  const parts = [`phase=${s.phase ?? '?'}`];
  if (s.jobId) parts.push(`job=${s.jobId}`);
  if (s.jobStatus) parts.push(`status=${s.jobStatus}`);
  if (s.polls !== undefined) parts.push(`polls=${s.polls}`);
  if (s.bytesWritten) parts.push(`bytes=${s.bytesWritten}`);
  return parts.join(' ');
}

/** Waits for the result while printing status changes to stderr; returns the exit code. */
export async function waitAndReport(
  handle: WorkflowHandle,
  out: { stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  let done = false;
  let last = '';
  const ticker = (async () => {
    while (!done) {
      try {
        const line = statusLine(await handle.query<ExportStatusView>('status'));
        if (line !== last && !done) out.stderr(`${handle.workflowId}: ${line}`);
        last = line;
      } catch {
        /* the query can fail while no worker is up; the result wait below is what matters */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    const result = await handle.result();
    out.stdout(JSON.stringify(result, null, 2));
    return EXIT_OK;
  } catch (err) {
    out.stderr(describeFailure(err));
    return EXIT_EXPORT_FAILED;
  } finally {
    done = true;
    await ticker;
  }
}

export function describeFailure(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    let cause: unknown = err.cause;
    while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause)
      cause = cause.cause;
    if (cause instanceof ApplicationFailure)
      return `export failed: ${cause.type ?? 'Error'}: ${cause.message}`;
    return `export failed: ${err.cause?.message ?? err.message}`;
  }
  return `export failed: ${err instanceof Error ? err.message : String(err)}`;
}
