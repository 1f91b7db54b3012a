import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { iso } from './clock';
import { badRequest, SandboxHttpError } from './errors';
import { emitEvent, INGEST_FAILURE_CATEGORY, INGEST_FAILURE_EVENT_NAME } from './events';
import { intBetween, mixSeed, mulberry32, pick, seededUuid, hashString } from './rng';
import { SEEDED_METER_CODES } from './seed';
import type { SandboxState } from './state';
import type { Measurement } from './types';
import { codeString, isoDateTime, parseOrThrow } from './validation';

/** The ingest payload must be under 512,000 bytes, else 403 (docs/m3ter-api.md, Submit measurements). */
export const MAX_INGEST_BYTES = 512_000;
export const MEASUREMENTS_ROUTE = '/organizations/:orgId/measurements';

const stringMap = z.record(z.string(), z.string({ error: 'values must be strings' }), {
  error: 'must be an object of string values',
});
const numberMap = z.record(z.string(), z.number({ error: 'values must be numbers' }), {
  error: 'must be an object of numeric values',
});
const measurementSchema = z.object({
  uid: z.string({ error: 'must be a string' }).max(50, 'must be at most 50 characters').optional(),
  meter: codeString,
  account: codeString,
  ts: isoDateTime,
  ets: isoDateTime.optional(),
  who: stringMap.optional(),
  where: stringMap.optional(),
  what: stringMap.optional(),
  other: stringMap.optional(),
  metadata: z
    .record(
      z.string(),
      z.string({ error: 'values must be strings' }).max(256, 'values must be at most 256 characters'),
      { error: 'must be an object of string values' },
    )
    .optional(),
  measure: numberMap.optional(),
  cost: numberMap.optional(),
  income: numberMap.optional(),
});
const measurementListSchema = measurementSchema.array();
const bodySchema = z.object({
  measurements: z
    .array(z.unknown(), { error: (i) => (i.input === undefined ? 'is required' : 'must be an array') })
    .min(1, 'must contain at least 1 measurement')
    .max(1000, 'must contain at most 1000 measurements'),
});

/** The codes of every account, seeded or created by ingest, for a batch's lookups. */
function accountCodes(state: SandboxState): Set<unknown> {
  return new Set(state.allAccounts().map((a) => a.code));
}

function ensureAccount(state: SandboxState, code: string, known: Set<unknown>): void {
  if (known.has(code)) return;
  known.add(code);
  // Unknown account codes auto-create a skeleton Account (docs/m3ter-api.md, Submit measurements).
  const now = iso(state.clock.now());
  const rng = mulberry32(mixSeed(state.seed, hashString(code)));
  state.skeletonAccounts.push({
    id: seededUuid(rng),
    code,
    name: code,
    skeleton: true,
    version: 1,
    dtCreated: now,
    dtLastModified: now,
    createdBy: 'ingest',
    lastModifiedBy: 'ingest',
  });
}

type Item = z.infer<typeof measurementSchema>;

/**
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): the payload of `ingest.validation.failure` is undocumented.
 * The sandbox's one definition: `eventData: {failureType, uid, meter, account, ts, errorMessage}`, and
 * `resourceId` set to the uid.
 */
function rejectMeasurement(state: SandboxState, m: Item, failureType: string, errorMessage: string): void {
  const now = state.clock.now();
  emitEvent(state, {
    eventName: INGEST_FAILURE_EVENT_NAME,
    category: INGEST_FAILURE_CATEGORY,
    eventTime: now,
    m3terEvent: {
      eventName: INGEST_FAILURE_EVENT_NAME,
      eventTime: iso(now),
      eventData: { failureType, uid: m.uid, meter: m.meter, account: m.account, ts: m.ts, errorMessage },
    },
    ...(m.uid !== undefined ? { resourceId: m.uid } : {}),
  });
}

/** The field a measurement lacks among its meter's required ones (`measure.quantity`), if any. */
function missingField(m: Item, required: string[]): string | undefined {
  return required.find((path) => {
    const [map, key] = path.split('.', 2);
    const values = (m as Record<string, unknown>)[map] as Record<string, unknown> | undefined;
    return key === undefined ? values === undefined : values?.[key] === undefined;
  });
}

/**
 * Stores accepted measurements. Validation after acceptance, as m3ter's (docs/m3ter-api.md, Submit
 * measurements): with `ingestMeters` configured an unknown meter (UndefinedMeter) or a missing required
 * field (MissingField) is not ingested; a repeated uid is never ingested again (DuplicateUid). Each raises
 * an IngestValidationFailure event.
 */
export function ingest(state: SandboxState, items: Item[]): void {
  const meters = state.config.ingestMeters;
  const known = accountCodes(state);
  for (const m of items) {
    if (m.uid !== undefined && state.uids.has(m.uid)) {
      state.duplicatesReceived += 1;
      rejectMeasurement(state, m, 'DuplicateUid', `A measurement with uid ${m.uid} was already ingested`);
      continue;
    }
    if (meters) {
      const meter = meters[m.meter];
      if (!meter) {
        rejectMeasurement(state, m, 'UndefinedMeter', `No meter with code ${m.meter}`);
        continue;
      }
      const missing = missingField(m, meter.required);
      if (missing) {
        rejectMeasurement(state, m, 'MissingField', `Meter ${m.meter} requires ${missing}`);
        continue;
      }
    }
    ensureAccount(state, m.account, known);
    const record: Measurement = { ...m, tsMs: Date.parse(m.ts) };
    if (m.uid !== undefined) state.uids.set(m.uid, state.measurements.length);
    state.measurements.push(record);
  }
  state.markDirty();
}

export function registerMeasurementRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post(
    MEASUREMENTS_ROUTE,
    { config: { m3ter: { rateClass: 'ingest', auth: true } }, bodyLimit: 8 * 1024 * 1024 },
    async (request) => {
      const size =
        (request as { rawBodyLength?: number }).rawBodyLength ??
        Number(request.headers['content-length'] ?? 0);
      if (size >= MAX_INGEST_BYTES)
        throw new SandboxHttpError(
          403,
          `Request payload of ${size} bytes exceeds the limit: it must be less than ${MAX_INGEST_BYTES} bytes`,
        );
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw badRequest('body: must be a JSON object');
      const { measurements } = parseOrThrow(bodySchema, body);
      // Validate every item before storing any: the batch is accepted or refused as a whole.
      const items = parseOrThrow(measurementListSchema, measurements, ['measurements']);
      ingest(state, items);
      return { result: 'accepted' };
    },
  );
}

const seedSchema = z.object({
  count: z.number().int().min(1).max(1_000_000).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  meters: z.array(codeString).min(1).optional(),
  accounts: z.array(codeString).min(1).optional(),
});

/**
 * Admin: generate measurements straight into the store (for demos; no ingest call is counted).
 * Defaults: 1000 measurements between the start of yesterday (UTC) and now, on the seeded meters
 * and accounts, each with `measure.quantity` and a `where.region` dimension.
 */
export function seedMeasurements(state: SandboxState, body: unknown): { added: number; count: number } {
  const opts = parseOrThrow(seedSchema, body ?? {});
  const now = state.clock.now();
  const to = opts.to ? Date.parse(opts.to) : now;
  const from = opts.from ? Date.parse(opts.from) : new Date(now).setUTCHours(0, 0, 0, 0) - 86_400_000;
  if (!(to > from)) throw badRequest('to: must be after from');
  const count = opts.count ?? 1000;
  const meters = opts.meters ?? SEEDED_METER_CODES;
  const accounts = opts.accounts ?? state.world.accounts.map((a) => String(a.code));
  const call = ++state.seedCalls;
  const known = accountCodes(state);
  const rng = mulberry32(mixSeed(state.seed, 0x5eed5, call));
  const regions = ['eu-west-1', 'us-east-1', 'ap-south-1'];
  for (let i = 0; i < count; i++) {
    const account = pick(rng, accounts);
    ensureAccount(state, account, known);
    const tsMs = from + Math.floor(rng() * (to - from));
    const m: Measurement = {
      uid: `sbx-${call}-${i}`,
      meter: pick(rng, meters),
      account,
      ts: iso(tsMs),
      tsMs,
      where: { region: pick(rng, regions) },
      measure: { quantity: intBetween(rng, 1, 100) },
    };
    state.uids.set(m.uid!, state.measurements.length);
    state.measurements.push(m);
  }
  state.markDirty();
  return { added: count, count: state.measurements.length };
}
