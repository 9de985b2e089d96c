import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { statsStore, type CountedTable } from '../store/stats.js';
import type { Db } from '../store/types.js';

/** Which API a request was for, as the request counter labels it. */
export type RequestSurface = 'track_v1' | 'track_v2' | 'segment' | 'webhook' | 'app' | 'ops' | 'unmatched';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route when it is added (onRoute), so counting a request reads one property. */
    metricsSurface?: RequestSurface;
  }
}

/** The surface of a route, from its error shape and path. */
export function surfaceOfRoute(route: Pick<RouteOptions, 'url' | 'config'>): RequestSurface {
  const shape = (route.config as { errorShape?: string } | undefined)?.errorShape;
  if (route.url === '/segment/webhook') return 'webhook';
  if (shape === 'segment') return 'segment';
  if (shape === 'track_v2') return 'track_v2';
  if (shape === 'track_v1' || shape === 'track_v1_merge') return 'track_v1';
  if (shape === 'app') return 'app';
  return 'ops';
}

export interface MetricsOptions {
  /** A scrape reads new rows at most this often (ms); scrapes in between answer from memory. Default 0. */
  refreshMs?: number;
  /** How often the people and events counts are recounted in full, which corrects for deletes (ms). Default 10 min. */
  recountMs?: number;
  /** Rows of primary key range per counting query; the loop yields between queries. Default 50,000. */
  chunk?: number;
}

/** ROSTER_METRICS_RECOUNT_S: seconds between full recounts of people and events (default 600). */
export function metricsOptionsFromEnv(env: NodeJS.ProcessEnv): MetricsOptions {
  const seconds = Number(env.ROSTER_METRICS_RECOUNT_S ?? 600);
  return { recountMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 600_000 };
}

/** Counts per workspace of one table: the rows up to `upTo` (by primary key) are counted. */
class WorkspaceCounts {
  counts = new Map<number, number>();
  upTo = 0;

  /** Counts the rows added since the last call, one primary-key range at a time, yielding between ranges. */
  async advance(db: Db, table: CountedTable, chunk: number): Promise<void> {
    const top = await statsStore.maxPk(db, table);
    while (this.upTo < top) {
      const to = Math.min(this.upTo + chunk, top);
      for (const [ws, n] of await statsStore.countByWorkspace(db, table, this.upTo, to))
        this.counts.set(ws, (this.counts.get(ws) ?? 0) + n);
      this.upTo = to;
      if (to < top) await yieldToLoop();
    }
  }
}

/**
 * Roster's Prometheus metrics (docs/operations.md, Metrics). Per-request work is one Map lookup and an increment;
 * everything read from the database is read when scraped, from new rows only, and people/events are recounted in
 * full now and then (rows deleted in between are not seen until then).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly db: Db;
  private readonly refreshMs: number;
  private readonly recountMs: number;
  private readonly chunk: number;

  // Requests counted in plain numbers on the hot path; pushed into the prom-client counter at scrape time.
  private readonly pending = new Map<RequestSurface, Map<number, number>>();
  private readonly requests: Counter<'surface' | 'status'>;
  private readonly batchSize: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly outcomes: Counter<'outcome'>;
  private readonly jobs: Gauge<'status'>;
  private readonly people: Gauge<'workspace'>;
  private readonly events: Gauge<'workspace'>;

  private tables: Record<'people' | 'events', WorkspaceCounts> | null = null;
  private recounting: Promise<void> | null = null;
  private lastRecount = 0;
  private lastRefresh = 0;
  private outcomesUpTo: number | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(db: Db, options: MetricsOptions = {}) {
    this.db = db;
    this.refreshMs = options.refreshMs ?? 0;
    this.recountMs = options.recountMs ?? 600_000;
    this.chunk = options.chunk ?? 50_000;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'roster_http_requests_total',
      help: 'HTTP requests answered, by API surface and status code.',
      labelNames: ['surface', 'status'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'roster_ingest_batch_size',
      help: 'Commands applied per group-commit batch of the ingest writer.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'roster_ingest_batch_seconds',
      help: 'Time to apply and commit one group-commit batch.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.outcomes = new Counter({
      name: 'roster_integration_log_outcomes_total',
      help: 'Integration-log entries (calls dropped or refused) by outcome code, read from the database.',
      labelNames: ['outcome'],
      registers,
    });
    this.jobs = new Gauge({
      name: 'roster_jobs',
      help: 'Background jobs queued (waiting) or running, in the queue shared by every process.',
      labelNames: ['status'],
      registers,
    });
    this.people = new Gauge({
      name: 'roster_people',
      help: 'People per workspace (new rows counted at each scrape; recounted in full periodically).',
      labelNames: ['workspace'],
      registers,
    });
    this.events = new Gauge({
      name: 'roster_events',
      help: 'Stored events per workspace (new rows counted at each scrape; recounted in full periodically).',
      labelNames: ['workspace'],
      registers,
    });
  }

  /** Takes the integration log's current end as the start of the outcome counters. */
  async start(): Promise<void> {
    this.outcomesUpTo = await statsStore.maxPk(this.db, 'integration_log');
  }

  /** Counts one answered request (onResponse). */
  countRequest(surface: RequestSurface, status: number): void {
    let bySurface = this.pending.get(surface);
    if (bySurface === undefined) this.pending.set(surface, (bySurface = new Map()));
    bySurface.set(status, (bySurface.get(status) ?? 0) + 1);
  }

  /** The writer's onBatch: one group-commit batch of `size` commands took `ms`. */
  readonly onBatch = (size: number, ms: number): void => {
    this.batchSize.observe(size);
    this.batchSeconds.observe(ms / 1000);
  };

  /** The exposition text, after reading what changed in the database since the last scrape. */
  async render(): Promise<string> {
    await this.refresh();
    for (const [surface, byStatus] of this.pending)
      for (const [status, n] of byStatus) if (n > 0) this.requests.inc({ surface, status: String(status) }, n);
    this.pending.clear();
    return this.registry.metrics();
  }

  private refresh(): Promise<void> {
    if (Date.now() - this.lastRefresh < this.refreshMs && this.tables) return Promise.resolve();
    // A database that fails to answer leaves the last values in place; the scrape still answers.
    this.refreshing ??= this.readDatabase()
      .catch(() => undefined)
      .finally(() => {
        this.lastRefresh = Date.now();
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private async readDatabase(): Promise<void> {
    const db = this.db;
    const jobs = await statsStore.liveJobs(db);
    this.jobs.set({ status: 'queued' }, jobs.queued);
    this.jobs.set({ status: 'running' }, jobs.running);

    if (this.outcomesUpTo === null) await this.start();
    const top = await statsStore.maxPk(db, 'integration_log');
    while (this.outcomesUpTo! < top) {
      const to = Math.min(this.outcomesUpTo! + this.chunk, top);
      for (const [outcome, n] of await statsStore.countByOutcome(db, this.outcomesUpTo!, to))
        this.outcomes.inc({ outcome }, n);
      this.outcomesUpTo = to;
      if (to < top) await yieldToLoop();
    }

    if (this.tables === null) await this.recount();
    else {
      if (Date.now() - this.lastRecount >= this.recountMs) this.recounting ??= this.recount().catch(() => undefined);
      for (const table of ['people', 'events'] as const) await this.tables[table].advance(db, table, this.chunk);
    }
    const ids = await statsStore.workspaceIds(db);
    for (const [table, gauge] of [
      ['people', this.people],
      ['events', this.events],
    ] as const) {
      gauge.reset();
      for (const [pk, publicId] of ids) gauge.set({ workspace: publicId }, this.tables![table].counts.get(pk) ?? 0);
    }
  }

  /** Counts people and events from scratch, then swaps the new counts in. */
  private async recount(): Promise<void> {
    try {
      const fresh = { people: new WorkspaceCounts(), events: new WorkspaceCounts() };
      for (const table of ['people', 'events'] as const) await fresh[table].advance(this.db, table, this.chunk);
      this.tables = fresh;
      this.lastRecount = Date.now();
    } finally {
      this.recounting = null;
    }
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics` in Prometheus' text format, and the request counter. With a token, the scrape must send
 * `Authorization: Bearer <token>`; without one the endpoint is open to whoever reaches the listen address.
 */
export function metricsRoutes(app: FastifyInstance, metrics: Metrics, token?: string): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), metricsSurface: surfaceOfRoute(route) };
  });
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    metrics.countRequest(request.routeOptions.config.metricsSurface ?? 'unmatched', reply.statusCode);
    done();
  });
  const expected = token ? sha256(token) : null;
  // In a plugin, so @fastify/swagger (registered before it) sees the route.
  void app.register(async (scope) => metricsRoute(scope, metrics, expected));
}

function metricsRoute(app: FastifyInstance, metrics: Metrics, expected: Buffer | null): void {
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const match = /^bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      // Comparing digests keeps the comparison constant-time whatever the length sent.
      if (!match || !timingSafeEqual(sha256(match[1]!), expected))
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'unauthorized', message: 'Send Authorization: Bearer <ROSTER_METRICS_TOKEN>.' });
    }
    const text = await metrics.render();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
