import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SandboxClock } from './clock';
import { FaultInjector } from './faults';
import { DEFAULT_RATE_LIMITS, RateLimiter } from './ratelimit';
import { buildWorld, type Entity, type SeededWorld } from './seed';
import type { EventRecord, FileEntry, JobRecord, Measurement, RateClass, RuntimeConfig } from './types';

export interface StateOptions {
  seed: number;
  orgId: string;
  accessKeyId: string;
  apiSecret: string;
  dataFile?: string;
  config: RuntimeConfig;
}

/** Everything the sandbox knows. Route modules read and mutate it; admin reset clears it. */
export interface RequestLogEntry {
  /** Arrival time, epoch ms (the real clock: rates are measured in real time). */
  at: number;
  route: string;
  rateClass: RateClass;
}

const REQUEST_LOG_CAP = 200_000;

export class SandboxState {
  readonly clock = new SandboxClock();
  readonly seed: number;
  readonly orgId: string;
  readonly accessKeyId: string;
  readonly apiSecret: string;
  /** Keys derived from the credentials, so tokens and presigned URLs survive a restart with the same env. */
  readonly jwtKey: Buffer;
  readonly urlKey: Buffer;
  readonly world: SeededWorld;
  readonly faults: FaultInjector;
  readonly rateLimiter: RateLimiter;
  readonly initialConfig: RuntimeConfig;
  config: RuntimeConfig;
  baseUrl = '';

  measurements: Measurement[] = [];
  /** uid → index in measurements, for the DuplicateUid rule. */
  uids = new Map<string, number>();
  /** Accounts auto-created by ingest for unknown account codes (docs/m3ter-api.md, Submit measurements). */
  skeletonAccounts: Entity[] = [];
  jobs = new Map<string, JobRecord>();
  events = new Map<string, EventRecord>();
  files = new Map<string, FileEntry>();
  counters = new Map<string, number>();
  /** Body bytes the file route handed to the network (what clients fetched), for resume tests. */
  fileBytesServed = 0;
  /**
   * Rate-limited requests as they arrived (epoch ms, route, class), so tests can measure the rate a whole
   * deployment of workers sends, across processes. Capped: the oldest entries go first.
   */
  requestLog: RequestLogEntry[] = [];
  /** 429s the rate limiter answered (injected faults are not counted here). */
  rateLimited = 0;
  /** Measurements received again under a uid already stored (not ingested a second time). */
  duplicatesReceived = 0;
  seedCalls = 0;
  /** Earliest completion time among unsettled jobs (see settleJobs); -Infinity forces a scan. */
  jobDeadline = -Infinity;
  private seq = 0;
  private readonly dataFile?: string;
  private saveTimer?: NodeJS.Timeout;

  constructor(opts: StateOptions) {
    this.seed = opts.seed;
    this.orgId = opts.orgId;
    this.accessKeyId = opts.accessKeyId;
    this.apiSecret = opts.apiSecret;
    this.jwtKey = createHash('sha256').update(`sandbox-jwt\0${opts.orgId}\0${opts.apiSecret}`).digest();
    this.urlKey = createHash('sha256').update(`sandbox-url\0${opts.orgId}\0${opts.apiSecret}`).digest();
    this.initialConfig = structuredClone(opts.config);
    this.config = structuredClone(opts.config);
    this.faults = new FaultInjector(opts.seed);
    this.rateLimiter = new RateLimiter(opts.config.rateLimits ?? DEFAULT_RATE_LIMITS);
    this.dataFile = opts.dataFile;
    this.world = buildWorld(opts.seed, opts.orgId, this.clock.now());
    if (this.dataFile) this.load(this.dataFile);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  newId(): string {
    // Jobs, events and files get random ids: a restarted sandbox must never reissue a job id a
    // worker still remembers from before the restart.
    return randomUUID();
  }

  count(routeKey: string): void {
    this.counters.set(routeKey, (this.counters.get(routeKey) ?? 0) + 1);
  }

  logRequest(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    if (this.requestLog.length > REQUEST_LOG_CAP)
      this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_CAP);
  }

  allAccounts(): Entity[] {
    return [...this.world.accounts, ...this.skeletonAccounts];
  }

  /** Admin reset: keep credentials and seeded entities, drop everything that happened since. */
  reset(): void {
    this.measurements = [];
    this.uids.clear();
    this.skeletonAccounts = [];
    this.jobs.clear();
    this.events.clear();
    this.files.clear();
    this.counters.clear();
    this.fileBytesServed = 0;
    this.requestLog = [];
    this.rateLimited = 0;
    this.duplicatesReceived = 0;
    this.seedCalls = 0;
    this.jobDeadline = -Infinity;
    this.faults.clear();
    this.rateLimiter.reset();
    this.markDirty();
  }

  // ---- persistence (only when dataFile is set) ----

  markDirty(): void {
    if (!this.dataFile || this.saveTimer) return;
    // Debounced: a burst of 1000 ingest calls writes the file once, not 1000 times.
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, 50);
    this.saveTimer.unref();
  }

  saveNow(): void {
    if (!this.dataFile) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const files = [...this.files.values()].map((f) =>
      f.kind === 'buffer' ? { ...f, data: f.data.toString('base64') } : f,
    );
    const snapshot = {
      format: 'm3ter-sandbox-data/1',
      clockOffsetMs: this.clock.offset,
      seq: this.seq,
      seedCalls: this.seedCalls,
      measurements: this.measurements,
      skeletonAccounts: this.skeletonAccounts,
      jobs: [...this.jobs.values()],
      events: [...this.events.values()],
      files,
    };
    const tmp = `${this.dataFile}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, this.dataFile);
  }

  private load(file: string): void {
    if (!existsSync(file)) return;
    const raw = JSON.parse(readFileSync(file, 'utf8')) as {
      format?: string;
      clockOffsetMs?: number;
      seq?: number;
      seedCalls?: number;
      measurements?: Measurement[];
      skeletonAccounts?: Entity[];
      jobs?: JobRecord[];
      events?: EventRecord[];
      files?: Array<FileEntry | (Omit<FileEntry, 'data'> & { kind: 'buffer'; data: string })>;
    };
    if (raw.format !== 'm3ter-sandbox-data/1') throw new Error(`${file} is not a sandbox data file`);
    this.clock.restoreOffset(raw.clockOffsetMs ?? 0);
    this.seq = raw.seq ?? 0;
    this.seedCalls = raw.seedCalls ?? 0;
    this.measurements = raw.measurements ?? [];
    this.measurements.forEach((m, i) => {
      if (m.uid !== undefined) this.uids.set(m.uid, i);
    });
    this.skeletonAccounts = raw.skeletonAccounts ?? [];
    for (const j of raw.jobs ?? []) this.jobs.set(j.id, j);
    for (const e of raw.events ?? []) this.events.set(e.id, e);
    for (const f of raw.files ?? []) {
      const entry = (
        f.kind === 'buffer' ? { ...f, data: Buffer.from(f.data as unknown as string, 'base64') } : f
      ) as FileEntry;
      this.files.set(entry.fileId, entry);
    }
  }
}
