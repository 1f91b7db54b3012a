import { LINE_ITEM_TYPES, OPERATIONAL_DATA_TYPES } from '../../src/m3ter/export-request-schemas';
import { iso } from './clock';
import { hashString, intBetween, mixSeed, mulberry32, pick, seededUuid, type Rng } from './rng';

/**
 * Deterministic entities for operational exports, Data Explorer bills and the evaluate route.
 * Ids come from the seed; dates are anchored on the month the sandbox started in, so recent date
 * ranges find data.
 */
// m3ter's lists of operational data types and bill line item types (docs/m3ter-api.md): one fact each,
// kept where the product keeps it.
export { OPERATIONAL_DATA_TYPES };
export type OperationalDataType = (typeof OPERATIONAL_DATA_TYPES)[number];

export { LINE_ITEM_TYPES };
export type LineItemType = (typeof LINE_ITEM_TYPES)[number];

export type Entity = Record<string, string | number | boolean | null>;

export interface SeededMeter extends Entity {
  id: string;
  code: string;
  name: string;
}

export interface BillLine {
  billId: string;
  billLineItemId: string;
  billDate: string; // ISO date-time, start of the bill's month
  accountId: string;
  accountCode: string;
  accountName: string;
  lineItemType: LineItemType;
  productName: string;
  quantity: number;
  units: string;
  subtotal: number;
  currency: string;
}

export interface SeededWorld {
  orgId: string;
  accounts: Entity[];
  meters: SeededMeter[];
  products: Entity[];
  plans: Entity[];
  bills: Entity[];
  billLines: BillLine[];
  /** Entities of every other operational type, built by one generic generator. */
  generic: Map<OperationalDataType, Entity[]>;
}

export const SEEDED_METER_CODES = ['api-calls', 'storage-gb', 'compute-hours'];
const PRODUCT_NAMES = ['Core Platform', 'Storage', 'Compute'];
const CURRENCY = 'USD';

function audit(rng: Rng, anchor: number): Entity {
  const created = anchor - intBetween(rng, 30, 365) * 86_400_000;
  return {
    version: 1,
    dtCreated: iso(created),
    dtLastModified: iso(created),
    createdBy: 'sandbox',
    lastModifiedBy: 'sandbox',
  };
}

export function buildWorld(seed: number, orgId: string, anchorMs: number): SeededWorld {
  const rng = mulberry32(mixSeed(seed, 0x5eed));
  const monthStart = (offset: number): number => {
    const d = new Date(anchorMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
  };

  const accounts: Entity[] = [];
  for (let i = 1; i <= 5; i++) {
    accounts.push({
      id: seededUuid(rng),
      code: `acct-${String(i).padStart(3, '0')}`,
      name: `Sandbox Customer ${i}`,
      emailAddress: `billing${i}@example.invalid`,
      currency: CURRENCY,
      ...audit(rng, anchorMs),
    });
  }
  const products: Entity[] = PRODUCT_NAMES.map((name) => ({
    id: seededUuid(rng),
    code: name.toLowerCase().replace(/\s+/g, '-'),
    name,
    ...audit(rng, anchorMs),
  }));
  const meters: SeededMeter[] = SEEDED_METER_CODES.map((code, i) => ({
    id: seededUuid(rng),
    code,
    name: code.replace(/-/g, ' '),
    productId: String(products[i % products.length].id),
    ...audit(rng, anchorMs),
  })) as SeededMeter[];
  const plans: Entity[] = products.map((p, i) => ({
    id: seededUuid(rng),
    code: `plan-${i + 1}`,
    name: `${String(p.name)} Plan`,
    productId: String(p.id),
    standingCharge: 100 * (i + 1),
    ...audit(rng, anchorMs),
  }));

  // Six monthly bills per account (this month and the five before), each with a few line items.
  const bills: Entity[] = [];
  const billLines: BillLine[] = [];
  for (let m = -5; m <= 0; m++) {
    for (const account of accounts) {
      const billId = seededUuid(rng);
      const billDate = iso(monthStart(m));
      let total = 0;
      const lineCount = intBetween(rng, 2, 4);
      for (let l = 0; l < lineCount; l++) {
        const lineItemType =
          l === 0
            ? 'STANDING_CHARGE'
            : pick(rng, [
                'USAGE',
                'USAGE',
                'OVERAGE_USAGE',
                'MINIMUM_SPEND',
                'COMMITMENT_CONSUMED',
                'AD_HOC',
              ] as const);
        const quantity = lineItemType === 'STANDING_CHARGE' ? 1 : intBetween(rng, 1, 5000);
        const subtotal = Math.round((lineItemType === 'STANDING_CHARGE' ? 100 : quantity * 0.05) * 100) / 100;
        total += subtotal;
        billLines.push({
          billId,
          billLineItemId: seededUuid(rng),
          billDate,
          accountId: String(account.id),
          accountCode: String(account.code),
          accountName: String(account.name),
          lineItemType,
          productName: pick(rng, PRODUCT_NAMES),
          quantity,
          units: lineItemType === 'STANDING_CHARGE' ? 'month' : 'units',
          subtotal,
          currency: CURRENCY,
        });
      }
      bills.push({
        id: billId,
        accountId: String(account.id),
        accountCode: String(account.code),
        billDate,
        status: m === 0 ? 'PENDING' : 'APPROVED',
        locked: m !== 0,
        currency: CURRENCY,
        total: Math.round(total * 100) / 100,
        version: 1,
        dtCreated: billDate,
      });
    }
  }

  const generic = new Map<OperationalDataType, Entity[]>();
  for (const type of OPERATIONAL_DATA_TYPES) {
    if (['ACCOUNTS', 'METERS', 'PRODUCTS', 'PLANS', 'BILLS', 'BILL_LINE_ITEMS'].includes(type)) continue;
    const typeRng = mulberry32(mixSeed(seed, hashString(type)));
    const rows: Entity[] = [];
    for (let i = 1; i <= 3; i++) {
      const account = accounts[(i - 1) % accounts.length];
      rows.push({
        id: seededUuid(typeRng),
        code: `${type.toLowerCase()}-${i}`,
        name: `${type.toLowerCase().replace(/_/g, ' ')} ${i}`,
        accountId: String(account.id),
        amount: intBetween(typeRng, 10, 10_000),
        ...audit(typeRng, anchorMs),
      });
    }
    generic.set(type, rows);
  }

  return { orgId, accounts, meters, products, plans, bills, billLines, generic };
}
