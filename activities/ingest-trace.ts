// After an ingest's last batch: wait out the settle period, read m3ter's IngestValidationFailure events
// since the first batch, join them to the file's lines (src/ingest/rejections.ts) and, for a local file,
// write every rejected line to `<file>.rejected.csv` beside it. One activity, so no uid or line ever
// enters workflow history; only the summary does.
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { heartbeat, sleep } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import { IngestSourceKind, type IngestRejections } from '../src/contract/ingest';
import type { M3terClient } from '../src/m3ter';
import { parseCsvHeader, type CsvColumn } from '../src/ingest/csv';
import { readLines } from '../src/ingest/lines';
import { csvField, parseRejectionEvent, REJECTED_CSV_HEADER, RejectionJoin } from '../src/ingest/rejections';
import { isBlank, parseRow } from '../src/ingest/rows';
import { openSource } from '../src/ingest/source';
import { describeSource } from '../src/contract/ingest';
import { IngestFormat } from '../src/ingest/format';
import type { ActivityLogger, Clock } from './deps';
import type { IngestFileRef } from './ingest-activities';
import { toApplicationFailure } from './failures';

/**
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): events become visible in `GET /events` within this long of
 * their eventTime, as the failure monitor assumes; the read starts this far before the first batch.
 */
const EVENT_VISIBILITY_SLACK_MS = 10 * 60_000;
const HEARTBEAT_EVERY_MS = 5_000;

export interface TraceIngestDeps {
  m3ter: Pick<M3terClient, 'iterateEvents'>;
  s3?: S3Client;
  log: ActivityLogger;
  clock: Clock;
}

export interface TraceIngestInput {
  file: IngestFileRef;
  dataOffset: number;
  dataLine: number;
  rowsSent: number;
  /** Rows that carried their own uid (their lines are found by reading the file again). */
  ownUids: number;
  /** When the first batch was sent (ISO). */
  firstSentAt: string;
  /** Read the events once this time has passed (ISO): the last batch plus the settle period. */
  settleUntil: string;
  maxListed: number;
}

export function createIngestTraceActivities(deps: TraceIngestDeps) {
  /** Every line the given uids are on, in file order (one pass; only those uids are kept). */
  async function findOwnUids(input: TraceIngestInput, uids: Set<string>): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    if (uids.size === 0) return found;
    const columns = csvColumns(input.file);
    const stream = await openSource(input.file.source, { start: input.dataOffset }, deps.s3);
    let n = 0;
    for await (const l of readLines(stream, { offset: input.dataOffset, firstLine: input.dataLine })) {
      if (++n % 50_000 === 0) heartbeat();
      if (isBlank(l.text)) continue;
      const row = parseRow(
        { format: input.file.format, columns, fileSha256: input.file.sha256, trusted: true },
        l.line,
        l.text,
      );
      const uid = 'measurement' in row && row.ownUid ? row.measurement.uid : undefined;
      if (uid !== undefined && uids.has(uid)) found.set(uid, [...(found.get(uid) ?? []), l.line]);
    }
    return found;
  }

  /** `<file>.rejected.csv` beside a local file: line, uid, type, reason and the row as it was. */
  async function writeReport(input: TraceIngestInput, join: RejectionJoin): Promise<string | undefined> {
    if (input.file.source.kind !== IngestSourceKind.local) return undefined;
    const target = `${input.file.source.path}.rejected.csv`;
    const temp = `${target}.partial`;
    const out = createWriteStream(temp);
    const write = async (line: string) => {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    };
    await write(REJECTED_CSV_HEADER);
    const stream = await openSource(input.file.source, { start: input.dataOffset }, deps.s3);
    for await (const l of readLines(stream, { offset: input.dataOffset, firstLine: input.dataLine })) {
      const r = join.isRejected(l.line);
      if (r) await write([r.line, r.uid, r.type, r.reason, l.text].map(csvField).join(','));
    }
    out.end();
    await once(out, 'finish');
    await rename(temp, target);
    return target;
  }

  return {
    async traceIngestRejections(input: TraceIngestInput): Promise<IngestRejections> {
      const settleAt = Date.parse(input.settleUntil);
      for (;;) {
        const left = settleAt - deps.clock.now();
        if (left <= 0) break;
        heartbeat({ settling: true });
        await sleep(Math.min(left, HEARTBEAT_EVERY_MS));
      }
      const join = new RejectionJoin({
        sha256: input.file.sha256,
        ...(input.file.salt ? { salt: input.file.salt } : {}),
      });
      const since = Date.parse(input.firstSentAt) - EVENT_VISIBILITY_SLACK_MS;
      try {
        let n = 0;
        for await (const e of deps.m3ter.iterateEvents({
          eventType: 'IngestValidationFailure',
          pageSize: 100,
        })) {
          if (++n % 1000 === 0) heartbeat({ events: n });
          if (Date.parse(e.eventTime) < since) break;
          const r = parseRejectionEvent(e);
          if (r) join.add(r, input.ownUids > 0);
        }
        join.resolveOwnUids(await findOwnUids(input, join.ownUidsToFind()));
        const reportFile = join.rejectedCount > 0 ? await writeReport(input, join) : undefined;
        const summary = join.summary(
          input.rowsSent,
          input.maxListed,
          new Date(deps.clock.now()).toISOString(),
          reportFile,
        );
        deps.log.info(
          { file: describeSource(input.file.source), rejected: summary.rejected, byType: summary.byType },
          'ingest rejections traced',
        );
        return summary;
      } catch (err) {
        throw toApplicationFailure(err, `tracing rejected rows of ${describeSource(input.file.source)}`);
      }
    },
  };
}

function csvColumns(file: IngestFileRef): CsvColumn[] | undefined {
  if (file.format !== IngestFormat.csv) return undefined;
  const h = parseCsvHeader(file.header ?? '');
  return 'columns' in h ? h.columns : undefined;
}

export type IngestTraceActivities = ReturnType<typeof createIngestTraceActivities>;
