import type { FastifyInstance } from 'fastify';
import { iso } from './clock';
import { badRequest, notFound } from './errors';
import { paginate } from './pagination';
import type { SandboxState } from './state';
import type { EventRecord, JobRecord } from './types';
import { parseBooleanQuery, parsePageSize, queryArray, querySingle } from './validation';

/** Events are deleted 28 days after creation (docs/m3ter-api.md, Retention). */
export const EVENT_RETENTION_MS = 28 * 24 * 3600 * 1000;
export const DEFAULT_EVENT_PAGE_SIZE = 10;

export const JOB_FAILURE_EVENT_NAME = 'dataexport.job.failure';
export const JOB_FAILURE_CATEGORY = 'DataExportJobFailure';
export const INGEST_FAILURE_EVENT_NAME = 'ingest.validation.failure';
export const INGEST_FAILURE_CATEGORY = 'IngestValidationFailure';

/**
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): no source documents the payload of
 * `dataexport.job.failure`.
 * This is the sandbox's one definition of it; change it here and everything (events, evaluate,
 * event fields, tests reading `m3terEvent.eventData.jobId`) follows.
 */
export function jobFailureM3terEvent(
  job: Pick<JobRecord, 'id' | 'scheduleId' | 'sourceType' | 'errorMessage'>,
  eventTime: number,
): Record<string, unknown> {
  return {
    eventName: JOB_FAILURE_EVENT_NAME,
    eventTime: iso(eventTime),
    eventData: {
      jobId: job.id,
      scheduleId: job.scheduleId,
      sourceType: job.sourceType,
      status: 'FAILED',
      errorMessage: job.errorMessage,
    },
  };
}

/** Event types offered by `GET /events/types`: a subset of docs/m3ter-api.md, Event types and fields. */
export const EVENT_TYPES: string[] = [
  ...['bill', 'billjob', 'charge', 'balance'].flatMap((e) =>
    ['created', 'deleted', 'updated'].map((a) => `billing.${e}.${a}`),
  ),
  ...['account', 'commitment', 'meter', 'plan', 'product'].flatMap((e) =>
    ['created', 'deleted', 'updated'].map((a) => `configuration.${e}.${a}`),
  ),
  JOB_FAILURE_EVENT_NAME,
  INGEST_FAILURE_EVENT_NAME,
  ...['authentication', 'disabled', 'missingaccountmapping', 'perform', 'validation'].map(
    (k) => `integration.${k}.error`,
  ),
];

export function categoryOf(eventName: string): string {
  if (eventName === JOB_FAILURE_EVENT_NAME) return JOB_FAILURE_CATEGORY;
  if (eventName === INGEST_FAILURE_EVENT_NAME) return INGEST_FAILURE_CATEGORY;
  if (eventName.startsWith('integration.')) return 'IntegrationEvent';
  return 'Notification';
}

/**
 * A representative `eventData` for an event type: what `notifications/evaluate` uses when given an
 * `eventName`, and what `GET /events/fields` describes. Entity events carry `new`/`old` DTOs
 * (docs/m3ter-api.md, Event types and fields).
 */
export function sampleEventData(eventName: string): Record<string, unknown> | undefined {
  if (!EVENT_TYPES.includes(eventName)) return undefined;
  if (eventName === JOB_FAILURE_EVENT_NAME) {
    return jobFailureM3terEvent(
      {
        id: '00000000-0000-4000-8000-000000000000',
        scheduleId: null,
        sourceType: 'USAGE',
        errorMessage: 'sample failure',
      },
      0,
    ).eventData as Record<string, unknown>;
  }
  if (eventName === INGEST_FAILURE_EVENT_NAME) {
    return {
      failureType: 'DuplicateUid',
      uid: 'sample-uid',
      meter: 'api-calls',
      account: 'acct-001',
      ts: '2025-01-01T00:00:00.000Z',
      errorMessage: 'sample',
    };
  }
  if (eventName.startsWith('integration.'))
    return { integrationConfigId: 'sample', entityType: 'Bill', entityId: 'sample', errorMessage: 'sample' };
  const dto = {
    id: 'sample-id',
    version: 2,
    code: 'sample',
    name: 'Sample',
    amount: 100,
    active: true,
    currency: 'USD',
    tags: ['a'],
    dtCreated: '2025-01-01T00:00:00.000Z',
  };
  const action = eventName.split('.').pop();
  if (action === 'created') return { new: dto };
  if (action === 'deleted') return { old: dto };
  return { new: dto, old: { ...dto, version: 1, amount: 50 } };
}

function fieldTypes(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value === null || value === undefined) {
    out[prefix] = 'string';
  } else if (Array.isArray(value)) {
    out[prefix] = 'array';
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) fieldTypes(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number') {
    out[prefix] = Number.isInteger(value) ? 'int' : 'double';
  } else if (typeof value === 'boolean') {
    out[prefix] = 'boolean';
  } else {
    out[prefix] = 'string';
  }
}

export function emitEvent(
  state: SandboxState,
  e: Omit<EventRecord, 'id' | 'seq' | 'dtActioned' | 'category'> & { category?: string },
): EventRecord {
  const record: EventRecord = {
    ...e,
    id: state.newId(),
    seq: state.nextSeq(),
    dtActioned: null,
    category: e.category ?? categoryOf(e.eventName),
  };
  state.events.set(record.id, record);
  state.markDirty();
  return record;
}

export function purgeOldEvents(state: SandboxState): void {
  const cutoff = state.clock.now() - EVENT_RETENTION_MS;
  for (const [id, e] of state.events) if (e.eventTime < cutoff) state.events.delete(id);
}

export function renderEvent(e: EventRecord): Record<string, unknown> {
  return {
    id: e.id,
    eventName: e.eventName,
    eventTime: iso(e.eventTime),
    dtActioned: e.dtActioned === null ? null : iso(e.dtActioned),
    m3terEvent: e.m3terEvent,
  };
}

const EVENT_FILTERS = [
  'eventType',
  'eventName',
  'includeActioned',
  'accountId',
  'resourceId',
  'notificationId',
  'notificationCode',
] as const;

export function registerEventRoutes(app: FastifyInstance, state: SandboxState): void {
  const meta = { m3ter: { rateClass: 'config' as const, auth: true } };

  app.get('/organizations/:orgId/events', { config: meta }, async (request) => {
    purgeOldEvents(state);
    const q = request.query as Record<string, unknown>;
    const pageSize = parsePageSize(q.pageSize, DEFAULT_EVENT_PAGE_SIZE);
    const nextToken = querySingle(q.nextToken, 'nextToken');
    const ids = queryArray(q.ids);
    let items = [...state.events.values()];
    if (ids !== undefined) {
      const combined = EVENT_FILTERS.filter((f) => q[f] !== undefined);
      if (combined.length > 0)
        throw badRequest(`ids: cannot be combined with other filters (${combined.join(', ')})`);
      items = items.filter((e) => ids.includes(e.id));
    } else {
      const eventType = querySingle(q.eventType, 'eventType');
      const eventName = querySingle(q.eventName, 'eventName');
      // ASSUMPTION (docs/m3ter-api.md, Assumptions): includeActioned defaults to true (actioned events
      // are listed).
      const includeActioned = parseBooleanQuery(q.includeActioned, 'includeActioned') ?? true;
      const accountId = querySingle(q.accountId, 'accountId');
      const resourceId = querySingle(q.resourceId, 'resourceId');
      const notificationId = querySingle(q.notificationId, 'notificationId');
      const notificationCode = querySingle(q.notificationCode, 'notificationCode');
      items = items.filter(
        (e) =>
          (eventType === undefined || e.category === eventType) &&
          (eventName === undefined || e.eventName === eventName) &&
          (includeActioned || e.dtActioned === null) &&
          (accountId === undefined || e.accountId === accountId) &&
          (resourceId === undefined || e.resourceId === resourceId) &&
          (notificationId === undefined || e.notificationId === notificationId) &&
          (notificationCode === undefined || e.notificationCode === notificationCode),
      );
    }
    const page = paginate(items, (e) => ({ t: e.eventTime, s: e.seq }), pageSize, nextToken);
    return { data: page.data.map(renderEvent), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  });

  app.get('/organizations/:orgId/events/types', { config: meta }, async () => ({ events: EVENT_TYPES }));

  app.get('/organizations/:orgId/events/fields', { config: meta }, async (request) => {
    const eventName = querySingle((request.query as Record<string, unknown>).eventName, 'eventName');
    const names = eventName === undefined ? EVENT_TYPES : [eventName];
    const events: Record<string, Record<string, string>> = {};
    for (const name of names) {
      const data = sampleEventData(name);
      if (!data) throw badRequest(`eventName: unknown event type ${name}`);
      const out: Record<string, string> = {};
      fieldTypes(data, '', out);
      events[name] = out;
    }
    return { events };
  });

  app.get('/organizations/:orgId/events/:id', { config: meta }, async (request) => {
    purgeOldEvents(state);
    const { id } = request.params as { id: string };
    const e = state.events.get(id);
    if (!e) throw notFound(`Event ${id} not found`);
    return renderEvent(e);
  });
}
