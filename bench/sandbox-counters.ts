// The sandbox's request counters (`GET /counters` on its admin API), as the benches read them.

export interface SandboxCounters {
  total: number;
  /** Requests served per route, keyed `METHOD /path/:param`. */
  routes: Record<string, number>;
}

/** The routes a status read goes to: the job list (batched reads) and the single job. */
export const STATUS_ROUTES = [
  'GET /organizations/:orgId/dataexports/jobs',
  'GET /organizations/:orgId/dataexports/jobs/:id',
];

/** Status reads among the counted requests. */
export function statusReads(counters: SandboxCounters): number {
  return STATUS_ROUTES.reduce((sum, route) => sum + (counters.routes[route] ?? 0), 0);
}
