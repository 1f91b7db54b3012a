// `m3ter-exports export usage|operational|bills`: validate (zod, before anything starts), start or attach to
// the export workflow under a deterministic id, optionally wait with live status, print the manifest.
import {
  EXPORT_NAME_PATTERN,
  EXPORT_NAME_RULE,
  storageRuleFor,
  type StorageMode,
} from '../contract/vocabulary';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { exportWorkflowId, type ExportKind } from '../export-ids';
import { adhocExportWorkflow, billsCsvExportWorkflow } from '../../workflows';
import { statusQuery, type ExportStatus } from '../../workflows/common';
import {
  checkInput,
  createAdhocExportInputSchema,
  createBillsCsvExportInputSchema,
  type AdhocExportInput,
  type BillsCsvExportInput,
} from '../contract/inputs';
import { CliInputError, EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';

export interface ExportCommonFlags {
  name?: string;
  id?: string;
  storage?: string;
  wait?: boolean;
  json?: boolean;
}

export type PreparedExport =
  | { kind: 'usage' | 'operational'; workflowId: string; input: AdhocExportInput }
  | { kind: 'bills'; workflowId: string; input: BillsCsvExportInput };

/**
 * Validates everything up front with the workflows' own input schemas; throws CliInputError listing every
 * problem. No I/O.
 */
export function prepareExport(
  kind: ExportKind,
  body: Record<string, unknown>,
  flags: ExportCommonFlags,
  now = Date.now(),
): PreparedExport {
  const problems: string[] = [];
  if (flags.name !== undefined && !EXPORT_NAME_PATTERN.test(flags.name)) {
    problems.push(`--name: ${EXPORT_NAME_RULE}`);
  }
  if (flags.id !== undefined && (flags.id.trim() === '' || flags.id.length > 255)) {
    problems.push('--id: must be 1-255 characters');
  }
  const storage = flags.storage ?? 'local';
  const billsStorage = storage === 'none' ? undefined : storage;
  const storageRule = storageRuleFor(kind, storage as StorageMode);
  if (storageRule) problems.push(`--storage: ${storageRule}`);

  const checked =
    kind === 'bills'
      ? checkInput(createBillsCsvExportInputSchema(), {
          request: body,
          storage: billsStorage,
          name: flags.name,
        })
      : checkInput(
          createAdhocExportInputSchema(() => now),
          { request: body, storage, name: flags.name },
        );
  if (!checked.ok) {
    // Flags map onto the request body; name problems as the operator wrote them.
    for (const p of checked.problems) {
      if (p.startsWith('storage:')) problems.push(`--${p}`);
      else if (p.startsWith('name:'))
        continue; // reported above with the flag's own rule
      else problems.push(p.replace(/^request\.?/, '') || p);
    }
  }
  if (problems.length)
    throw new CliInputError(`invalid ${kind} export:\n  ${problems.join('\n  ')}`, problems);
  if (!checked.ok) throw new Error('unreachable: problems were reported above');

  const value = checked.value;
  const workflowId = flags.id ?? exportWorkflowId(kind, value.request, flags.name);
  return kind === 'bills'
    ? { kind, workflowId, input: value as BillsCsvExportInput }
    : { kind, workflowId, input: value as AdhocExportInput };
}

export interface StartedExport {
  handle: WorkflowHandle;
  attached: boolean;
}

/** The workflow type an export runs as. */
export function workflowTypeOf(p: PreparedExport): string {
  return p.kind === 'bills' ? billsCsvExportWorkflow.name : adhocExportWorkflow.name;
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
    const options = {
      taskQueue,
      workflowId: p.workflowId,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    } as const;
    const handle =
      p.kind === 'bills'
        ? await client.workflow.start(billsCsvExportWorkflow, { ...options, args: [p.input] })
        : await client.workflow.start(adhocExportWorkflow, { ...options, args: [p.input] });
    const attached = existing?.status.name === 'RUNNING' && existing.runId === handle.firstExecutionRunId;
    return { handle, attached };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle(p.workflowId), attached: true };
    }
    throw err;
  }
}

function statusLine(s: ExportStatus): string {
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
        const line = statusLine(await handle.query(statusQuery));
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
