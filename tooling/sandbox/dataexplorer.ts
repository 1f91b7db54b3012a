import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { toCsv } from './csv';
import { badRequest } from './errors';
import { addBufferFile, presign } from './files';
import { LINE_ITEM_TYPES } from './seed';
import type { SandboxState } from './state';
import { isoDateTime, parseOrThrow } from './validation';

/**
 * Data Explorer bill CSV (docs/m3ter-api.md, Data Explorer bill CSV): synchronous, answers
 * `{downloadUrl}` for a CSV built from the seeded bills. The URL is presigned like export files (lifetime undocumented; the sandbox
 * uses `downloadUrlTtlSeconds`), and the file is kept 24 h.
 */
export const BILL_CSV_COLUMNS = [
  'billId',
  'billLineItemId',
  'billDate',
  'accountId',
  'accountCode',
  'accountName',
  'lineItemType',
  'productName',
  'quantity',
  'units',
  'subtotal',
  'currency',
];

const requestSchema = z.object({
  startDate: isoDateTime,
  endDate: isoDateTime,
  lineItemTypes: z
    .array(z.enum(LINE_ITEM_TYPES, { error: `must be one of ${LINE_ITEM_TYPES.join(', ')}` }), {
      error: (i) => (i.input === undefined ? 'is required' : 'must be an array'),
    })
    .min(1, 'must contain at least one line item type'),
  dimensions: z
    .array(
      z.object({
        name: z
          .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
          .min(1, 'must not be empty'),
        filter: z
          .array(z.string(), {
            error: (i) => (i.input === undefined ? 'is required' : 'must be an array of strings'),
          })
          .min(1, 'must contain at least one value ("*" matches all)'),
        attributes: z.array(z.string()).optional(),
      }),
    )
    .max(100, 'must contain at most 100 dimensions')
    .optional(),
  limit: z
    .number({ error: 'must be an integer between 1 and 2000' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(2000, 'must be at most 2000')
    .optional(),
  version: z.number().int().optional(),
});

export function registerDataExplorerRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post(
    '/organizations/:orgId/dataexplorer/bills/download/csv',
    { config: { m3ter: { rateClass: 'dataExplorer', auth: true } } },
    async (request) => {
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw badRequest('body: must be a JSON object');
      const req = parseOrThrow(requestSchema, body);
      const start = Date.parse(req.startDate);
      const end = Date.parse(req.endDate);
      if (!(end > start)) throw badRequest('endDate: must be after startDate');
      // Known dimension names filter rows; other names are accepted and ignored (documented).
      const matches = (name: string, value: string): boolean => {
        const dim = req.dimensions?.find((d) => d.name.toLowerCase() === name);
        return !dim || dim.filter.includes('*') || dim.filter.includes(value);
      };
      const rows = state.world.billLines
        .filter((l) => {
          const t = Date.parse(l.billDate);
          return (
            t >= start &&
            t < end &&
            (req.lineItemTypes as string[]).includes(l.lineItemType) &&
            matches('account', l.accountCode) &&
            matches('product name', l.productName)
          );
        })
        .slice(0, req.limit ?? 2000);
      const now = state.clock.now();
      const file = addBufferFile(state, {
        name: `bills_${now}.csv`,
        contentType: 'text/csv; charset=utf-8',
        data: Buffer.from(toCsv(BILL_CSV_COLUMNS, rows as unknown as Array<Record<string, unknown>>)),
        deleteAt: now + 24 * 3600 * 1000,
      });
      return { downloadUrl: presign(state, file.fileId).url };
    },
  );
}
