// Reading a DataExportJobFailure event. Its payload is undocumented (docs/m3ter-api.md, Assumptions), so
// every field is looked for in several plausible places and only accepted when it has the expected shape.
import { cleanText } from '../src/m3ter/errors';
import type { M3terEvent } from '../src/m3ter/schemas';

const ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function firstId(...candidates: unknown[]): string | undefined {
  for (const c of candidates) if (typeof c === 'string' && ID_SHAPE.test(c)) return c;
  return undefined;
}

function payloads(e: M3terEvent): Record<string, unknown>[] {
  const m = obj(e.m3terEvent) ?? {};
  const data = obj(m.eventData) ?? {};
  return [data, obj(data.newDto), obj(data.new), obj(data.job), obj(data.exportJob), m].filter(
    (x): x is Record<string, unknown> => Boolean(x),
  );
}

/** The failed ExportJob's id, or undefined when the event carries none we recognise. */
export function failureEventJobId(e: M3terEvent): string | undefined {
  const ps = payloads(e);
  const data = obj(obj(e.m3terEvent)?.eventData);
  const newDto = obj(data?.newDto);
  const neu = obj(data?.new);
  const job = obj(data?.job);
  const exportJob = obj(data?.exportJob);
  return firstId(
    data?.jobId,
    data?.exportJobId,
    data?.dataExportJobId,
    job?.id,
    exportJob?.id,
    newDto?.jobId,
    newDto?.id,
    neu?.jobId,
    neu?.id,
    ...ps.map((p) => p.jobId),
    (e as Record<string, unknown>).resourceId,
  );
}

export function failureEventScheduleId(e: M3terEvent): string | undefined {
  const ps = payloads(e);
  return firstId(
    ...ps.flatMap((p) => [p.scheduleId, p.exportScheduleId, p.dataExportScheduleId, obj(p.schedule)?.id]),
  );
}

export function failureEventMessage(e: M3terEvent): string | undefined {
  for (const p of payloads(e)) {
    for (const k of ['errorMessage', 'message', 'error', 'failureReason', 'reason']) {
      const v = p[k];
      if (typeof v === 'string' && v.trim() !== '') return cleanText(v);
    }
  }
  return undefined;
}

export function failureEventSourceType(e: M3terEvent): string | undefined {
  for (const p of payloads(e)) if (typeof p.sourceType === 'string') return p.sourceType;
  return undefined;
}
