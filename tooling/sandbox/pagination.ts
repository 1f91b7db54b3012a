import { badRequest } from './errors';

/**
 * Newest-first cursor pagination (docs/m3ter-api.md, Pagination). The token is opaque to clients:
 * base64url JSON of the sort key of the last item served, so a page boundary stays stable while new
 * items arrive.
 */
export interface SortKey {
  t: number; // primary key, descending (creation/event time in ms)
  s: number; // tie-breaker, descending (insertion sequence)
}

export function encodeToken(key: SortKey): string {
  return Buffer.from(JSON.stringify({ v: 1, t: key.t, s: key.s })).toString('base64url');
}

export function decodeToken(token: string | undefined): SortKey | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (parsed.v === 1 && typeof parsed.t === 'number' && typeof parsed.s === 'number')
      return { t: parsed.t, s: parsed.s };
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('nextToken: invalid or expired pagination token');
}

export function compareDesc(a: SortKey, b: SortKey): number {
  return b.t - a.t || b.s - a.s;
}

/** `items` must already be filtered; returns one page and the token for the next (older) page, if any. */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => SortKey,
  pageSize: number,
  token: string | undefined,
): { data: T[]; nextToken?: string } {
  const after = decodeToken(token);
  const sorted = [...items].sort((a, b) => compareDesc(keyOf(a), keyOf(b)));
  const rest = after ? sorted.filter((i) => compareDesc(after, keyOf(i)) < 0) : sorted;
  const data = rest.slice(0, pageSize);
  // ASSUMPTION (docs/m3ter-api.md, Assumptions): the last page omits nextToken entirely.
  if (rest.length > pageSize) return { data, nextToken: encodeToken(keyOf(data[data.length - 1])) };
  return { data };
}
