import { eventsStore } from '../store/events.js';
import { exportsStore } from '../store/exports.js';
import { integrationLogStore } from '../store/integration-log.js';
import { jobsStore } from '../store/jobs.js';
import { relationshipsStore } from '../store/relationships.js';
import { segmentDedupeWindowMs, segmentMessagesStore } from '../store/segment-messages.js';
import type { Db } from '../store/types.js';
import { workspacesStore } from '../store/workspaces.js';
import type { JobRunner } from './runner.js';

/** The recurring retention job's kind. */
export const purgeAnonymousEventsKind = 'purge_anonymous_events';
/** Integration-log rows are kept this long, in every workspace. */
export const integrationLogRetentionDays = 30;
/** Finished one-off jobs are kept this long, for inspection. */
export const finishedJobRetentionDays = 7;
/** A finished export's CSV is kept this long after it was made; then the export is `expired` (its file deleted). */
export const exportRetentionDays = 30;

const dayMs = 86_400_000;
/** Rows deleted per statement: each batch is one short transaction, so an ingest batch never waits long behind it. */
const batchSize = 1000;

/** What one purge deleted. */
export interface PurgeCounts {
  anonymousEvents: number;
  integrationLog: number;
  finishedJobs: number;
  segmentMessageIds: number;
  pendingRelationships: number;
  expiredExports: number;
}

/** Exports expired per step. */
const exportsPerBatch = 10;

/** Runs `step` (one batch delete) until it deletes less than a full batch or `signal` aborts; returns the total. */
async function inBatches(step: () => Promise<number>, signal?: AbortSignal, size = batchSize): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const n = await step();
    total += n;
    if (n < size) break;
    // Let queued ingest batches take the write connection between two of ours.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return total;
}

/**
 * Deletes what has outlived its retention: each workspace's anonymous events (never linked to a person) older than
 * its `anonymous_retention_days` by event time, integration-log rows older than 30 days, finished jobs older than
 * 7 days, Segment messageIds after their dedupe window, the CSV of exports finished more than 30 days ago. Stops early, having deleted whole batches only, when `signal` aborts; the next run goes on.
 */
export async function purgeExpired(db: Db, now: number, signal?: AbortSignal): Promise<PurgeCounts> {
  const counts: PurgeCounts = {
    anonymousEvents: 0,
    integrationLog: 0,
    finishedJobs: 0,
    segmentMessageIds: 0,
    pendingRelationships: 0,
    expiredExports: 0,
  };
  for (const ws of await workspacesStore.list(db)) {
    const eventsBefore = now - ws.settings.anonymousRetentionDays * dayMs;
    counts.anonymousEvents += await inBatches(
      () => eventsStore.purgeAnonymousBefore(db, ws.pk, eventsBefore, batchSize),
      signal,
    );
    // Relationships waiting for an anonymous id's person live as long as anonymous events do.
    counts.pendingRelationships += await inBatches(
      () => relationshipsStore.purgePendingBefore(db, ws.pk, eventsBefore, batchSize),
      signal,
    );
    const logBefore = now - integrationLogRetentionDays * dayMs;
    counts.integrationLog += await inBatches(
      () => integrationLogStore.purgeBefore(db, ws.pk, logBefore, batchSize),
      signal,
    );
  }
  const jobsBefore = now - finishedJobRetentionDays * dayMs;
  counts.finishedJobs = await inBatches(() => jobsStore.purgeFinished(db, jobsBefore, batchSize), signal);
  // Segment messageIds are remembered a day past the 7 days dedupe promises.
  const messagesBefore = now - segmentDedupeWindowMs - dayMs;
  counts.segmentMessageIds = await inBatches(
    () => segmentMessagesStore.purgeBefore(db, messagesBefore, batchSize),
    signal,
  );
  // An export's chunks hold its whole CSV (~1 MB each): a few exports per batch keep each step short.
  counts.expiredExports = await inBatches(
    () => exportsStore.expireFinishedBefore(db, now - exportRetentionDays * dayMs, exportsPerBatch, now),
    signal,
    exportsPerBatch,
  );
  return counts;
}

/** Registers the hourly retention purge (scheduled once across all processes). */
export function registerRetentionJobs(runner: JobRunner, opts: { everyMs?: number } = {}): void {
  runner.register(purgeAnonymousEventsKind, (_job, ctx) => purgeExpired(ctx.writer, ctx.now, ctx.signal), {
    everyMs: opts.everyMs ?? 3_600_000,
  });
}
