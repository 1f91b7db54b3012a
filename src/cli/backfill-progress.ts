// A running backfill on the terminal: a progress bar on a TTY, plain lines otherwise, and the summary.
import type { Io } from './io';
import { SingleBar } from 'cli-progress';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { backfillWorkflow } from '../../workflows/backfill';
import { backfillProgressQuery, type BackfillProgress } from '../contract/backfill';
import { EXIT_EXPORT_FAILED, EXIT_OK } from './exit-codes';

export type BackfillHandle = WorkflowHandle<typeof backfillWorkflow>;

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: BackfillProgress): string {
  const t = p.totals;
  const parts = [
    `${p.done}/${p.total ?? '?'} windows`,
    `succeeded ${t.succeeded}, awaited ${t.awaited}, skipped ${t.skipped}, failed ${t.failed}` +
      (t.cancelled ? `, cancelled ${t.cancelled}` : ''),
    `${p.inFlight.length} in flight`,
  ];
  if (p.ratePerMinute !== undefined) parts.push(`${p.ratePerMinute} windows/min`);
  if (p.etaSeconds !== undefined && p.state === 'running') parts.push(`ETA ${duration(p.etaSeconds)}`);
  return parts.join(' | ');
}

export function formatSummary(workflowId: string, p: BackfillProgress): string {
  const lines = [
    `backfill   ${workflowId} (${p.state}, run ${p.run})`,
    `export     ${p.name}  [${p.from}, ${p.to})  reprocess ${p.reprocess}  concurrency ${p.concurrency}`,
    `progress   ${progressLine(p)}`,
  ];
  if (p.inFlight.length) lines.push(`in flight  ${p.inFlight.join(', ')}`);
  if (p.failedWindows.length || p.failedUnlisted) {
    lines.push('failed windows:');
    for (const f of p.failedWindows) lines.push(`  ${f.workflowId}  ${f.type}: ${f.message}`);
    if (p.failedUnlisted) lines.push(`  ... and ${p.failedUnlisted} more`);
  }
  if (p.cancelledWindows.length) {
    lines.push('cancelled windows (their ExportJobs were left to m3ter):');
    for (const id of p.cancelledWindows) lines.push(`  ${id}`);
  }
  return lines.join('\n');
}

/** 1 when any window failed or the backfill did not complete. */
export function exitCodeOf(p: BackfillProgress | undefined): number {
  return p && p.state === 'completed' && p.totals.failed === 0 ? EXIT_OK : EXIT_EXPORT_FAILED;
}

/** The backfill's final progress: its result, or (cancelled) what the progress query answers. */
export async function finalProgress(handle: BackfillHandle): Promise<BackfillProgress | undefined> {
  try {
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      return handle.query(backfillProgressQuery).catch(() => undefined);
    }
    throw err;
  }
}

export async function waitWithProgress(handle: BackfillHandle, io: Io, json: boolean): Promise<number> {
  const tty = Boolean(process.stderr.isTTY) && !json;
  const bar = tty
    ? new SingleBar(
        {
          format:
            'backfill [{bar}] {value}/{total} | {counts} | {inflight} in flight | {rate} | ETA {eta_text}',
          hideCursor: true,
          stream: process.stderr,
        },
        undefined,
      )
    : undefined;
  let started = false;
  let lastLine = '';
  let lastPrint = 0;
  let done = false;
  const ticker = (async () => {
    while (!done) {
      try {
        const p = await handle.query(backfillProgressQuery);
        if (bar) {
          const payload = {
            counts: `ok ${p.totals.succeeded + p.totals.awaited}, skipped ${p.totals.skipped}, failed ${p.totals.failed}`,
            inflight: p.inFlight.length,
            rate: p.ratePerMinute !== undefined ? `${p.ratePerMinute}/min` : '-',
            eta_text: p.etaSeconds !== undefined ? duration(p.etaSeconds) : '-',
          };
          if (!started) bar.start(p.total ?? 0, p.done, payload);
          else bar.setTotal(p.total ?? 0);
          started = true;
          bar.update(p.done, payload);
        } else {
          const line = progressLine(p);
          // Plain lines for logs: on change, at most every 5 s, and at least once a minute.
          const now = Date.now();
          if ((line !== lastLine && now - lastPrint >= 5_000) || now - lastPrint >= 60_000) {
            io.stderr(`${handle.workflowId}: ${line}`);
            lastLine = line;
            lastPrint = now;
          }
        }
      } catch {
        /* no worker yet, or between runs of a continue-as-new: the result wait below decides */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    const p = await finalProgress(handle);
    done = true;
    await ticker;
    if (bar && started) {
      if (p) bar.update(p.done);
      bar.stop();
    }
    if (!p) {
      io.stderr(`${handle.workflowId}: cancelled`);
      return EXIT_EXPORT_FAILED;
    }
    io.stdout(
      json
        ? JSON.stringify({ workflowId: handle.workflowId, ...p }, null, 2)
        : formatSummary(handle.workflowId, p),
    );
    return exitCodeOf(p);
  } catch (err) {
    done = true;
    await ticker;
    bar?.stop();
    io.stderr(
      `backfill ${handle.workflowId} failed: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
    );
    return EXIT_EXPORT_FAILED;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Commands
