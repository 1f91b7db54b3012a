// An ingest on the terminal: a progress bar on a TTY (lines/s, ETA), plain lines otherwise, and the report.
import { SingleBar } from 'cli-progress';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { ingestWorkflow } from '../../workflows/ingest';
import { ingestProgressQuery, IngestPhase, type IngestProgress } from '../contract/ingest';
import { describeFailure } from '../contract/failures';
import { EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';
import type { Io } from './io';

export type IngestHandle = WorkflowHandle<typeof ingestWorkflow>;

export interface IngestOutcome {
  workflowId: string;
  file: string;
  /** Temporal's status of the run, or what happened to it. */
  status: string;
  progress?: IngestProgress;
  error?: { type: string; message: string };
}

function rate(p: IngestProgress, now: number): number | undefined {
  if (!p.firstSentAt) return undefined;
  const s = (now - Date.parse(p.firstSentAt)) / 1000;
  return s > 0 ? p.rowsSent / s : undefined;
}

export function progressLine(p: IngestProgress, now = Date.now()): string {
  const r = rate(p, now);
  const parts = [
    `${p.phase}`,
    `${p.rowsSent}/${p.rowsTotal} lines`,
    `${p.batchesSent} batches (${p.requests} requests)`,
    `${p.bytesSent} bytes`,
    `offset ${p.offset}/${p.sizeBytes}`,
  ];
  if (r !== undefined) parts.push(`${Math.round(r)} lines/s`);
  if (r && p.phase === IngestPhase.sending) parts.push(`ETA ${Math.ceil((p.rowsTotal - p.rowsSent) / r)}s`);
  return parts.join(' | ');
}

/** The report of one ingest, for people. */
export function formatOutcome(o: IngestOutcome): string {
  const lines = [`ingest     ${o.workflowId} (${o.status})`, `file       ${o.file}`];
  const p = o.progress;
  if (p) lines.push(`progress   ${progressLine(p)}`);
  if (o.error) lines.push(`failed     ${o.error.type}: ${o.error.message}`);
  const r = p?.rejections;
  if (r) {
    lines.push(`accepted   ${r.accepted}`);
    const types = Object.entries(r.byType)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    lines.push(`rejected   ${r.rejected}${types ? ` (${types})` : ''}`);
    if (r.resendDuplicates) lines.push(`resent     ${r.resendDuplicates} (ingested once, by uid)`);
    for (const x of r.firstRejected) lines.push(`  line ${x.line}  ${x.type}: ${x.reason}  (uid ${x.uid})`);
    if (r.rejected > r.firstRejected.length)
      lines.push(`  ... and ${r.rejected - r.firstRejected.length} more`);
    if (r.reportFile) lines.push(`report     ${r.reportFile}`);
  }
  if (p?.alert) lines.push(`alert      ${p.alert}`);
  return lines.join('\n');
}

/** 0 when the ingest completed with no rejected row; 1 otherwise (running counts as 0). */
export function exitCodeOf(o: IngestOutcome): number {
  if (o.status === 'RUNNING') return EXIT_OK;
  const r = o.progress?.rejections;
  return o.status === 'COMPLETED' && r !== undefined && r.rejected === 0 ? EXIT_OK : EXIT_EXPORT_FAILED;
}

/** The ingest's outcome once it has ended (its result, or its failure and last progress). */
export async function finalOutcome(handle: IngestHandle, file: string): Promise<IngestOutcome> {
  try {
    const progress = await handle.result();
    return { workflowId: handle.workflowId, file, status: 'COMPLETED', progress };
  } catch (err) {
    const progress = await handle.query(ingestProgressQuery).catch(() => undefined);
    const cancelled = err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure;
    const f = describeFailure(err instanceof WorkflowFailedError ? (err.cause ?? err) : err);
    return {
      workflowId: handle.workflowId,
      file,
      status: cancelled ? 'CANCELLED' : 'FAILED',
      ...(progress ? { progress } : {}),
      ...(cancelled ? {} : { error: { type: f.type, message: f.message } }),
    };
  }
}

/** Waits for one ingest, showing its progress on stderr. */
export async function waitWithProgress(
  handle: IngestHandle,
  file: string,
  io: Io,
  json: boolean,
): Promise<IngestOutcome> {
  const tty = Boolean(process.stderr.isTTY) && !json;
  const bar = tty
    ? new SingleBar(
        {
          format: `${file} [{bar}] {value}/{total} lines | {phase} | {rate} lines/s | ETA {eta}s`,
          hideCursor: true,
          stream: process.stderr,
        },
        undefined,
      )
    : undefined;
  let started = false;
  let lastPrint = 0;
  let done = false;
  const ticker = (async () => {
    while (!done) {
      try {
        const p = await handle.query(ingestProgressQuery);
        if (bar) {
          const payload = { phase: p.phase, rate: Math.round(rate(p, Date.now()) ?? 0) };
          if (!started) bar.start(p.rowsTotal, p.rowsSent, payload);
          started = true;
          bar.update(p.rowsSent, payload);
        } else if (!json && Date.now() - lastPrint >= 5_000) {
          io.stderr(`${handle.workflowId}: ${progressLine(p)}`);
          lastPrint = Date.now();
        }
      } catch {
        /* no worker yet, or between runs of a continue-as-new: the result wait decides */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const outcome = await finalOutcome(handle, file);
  done = true;
  await ticker;
  if (bar && started) {
    if (outcome.progress) bar.update(outcome.progress.rowsSent);
    bar.stop();
  }
  return outcome;
}
