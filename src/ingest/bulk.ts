import type { DedupeAction, GroupPlan, PlanRow } from '../domain/dedupe.js';
import { planRows } from '../domain/dedupe.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Reference } from '../domain/identifiers.js';
import { conflictMessage } from './rule-c.js';
import type { CallContext, Command, Outcome } from './commands.js';
import type { Writer } from './writer.js';

/** How many commands are in flight at once: enough for full group-commit batches, bounded memory for big files. */
const window = 1000;

/** Submits the commands through the writer (group commit), a window at a time; outcomes in input order. */
export async function submitAll(writer: Writer, ctx: CallContext, cmds: readonly Command[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < cmds.length; i += window) {
    const chunk = cmds.slice(i, i + window);
    outcomes.push(...(await Promise.all(chunk.map((cmd) => writer.submit(ctx, cmd)))));
  }
  return outcomes;
}

/** A failed outcome as a stable code and a message; null when the command succeeded. */
export function outcomeFailure(o: Outcome): { code: ErrorCode; message: string } | null {
  switch (o.status) {
    case 'ok':
      return null;
    case 'dropped':
      return o.reason === 'suppressed'
        ? { code: 'suppressed', message: 'An identifier of the row is suppressed; nothing was written.' }
        : null;
    case 'conflict':
      return {
        code: o.conflicts[0]!.reason,
        message: `${o.conflicts.map(conflictMessage).join(' ')} The rest of the row was applied.`,
      };
    case 'error':
      return { code: o.error.code, message: o.error.message };
  }
}

/** What a delete did to one person. */
export type DeleteStatus = 'deleted' | 'not_found' | 'failed';

/** Deletes the people named, each in the writer's group commit; says per reference what happened. */
export async function deletePeople(
  writer: Writer,
  ctx: CallContext,
  refs: readonly Reference[],
): Promise<{ status: DeleteStatus; code?: ErrorCode; message?: string }[]> {
  const outcomes = await submitAll(
    writer,
    ctx,
    refs.map((ref) => ({ kind: 'delete', ref, reportMissing: true })),
  );
  return outcomes.map((o) => {
    const failure = outcomeFailure(o);
    if (!failure) return { status: 'deleted' };
    if (failure.code === 'person_not_found') return { status: 'not_found', ...failure };
    return { status: 'failed', ...failure };
  });
}

/** A plan row after it was carried out: `done` for the keeper and for each person merged away or deleted. */
export interface ResolvedRow extends PlanRow {
  status: 'kept' | 'merged' | 'deleted' | 'planned' | 'not_found' | 'failed';
  code?: ErrorCode;
  message?: string;
}

/** The columns of a plan as CSV (`roster dedupe --out`, `POST /v1/duplicates/resolve` with `Accept: text/csv`). */
export const planCsvColumns = [
  'value',
  'role',
  'cio_id',
  'id',
  'email',
  'created_at',
  'events',
  'kept_cio_id',
  'reason',
  'status',
  'error_code',
  'error_message',
] as const;

/** One plan row as a CSV record in planCsvColumns order; no value is written as an empty cell. */
export const planCsvRecord = (r: ResolvedRow): (string | number)[] =>
  planCsvColumns.map((c) =>
    c === 'error_code' ? (r.code ?? '') : c === 'error_message' ? (r.message ?? '') : (r[c] ?? ''),
  );

/**
 * Carries out a dedupe plan: each dropped person is merged into (identity.md, Merge) or deleted beside the one kept.
 * People are named by cio_id, so a person changed since the scan is still the one meant; one gone meanwhile is
 * reported `not_found` and the rest goes on.
 */
export async function resolveDuplicates(
  writer: Writer,
  ctx: CallContext,
  plans: readonly GroupPlan[],
  action: DedupeAction,
  dryRun: boolean,
): Promise<ResolvedRow[]> {
  const rows = planRows(plans, action);
  if (dryRun) return rows.map((r) => ({ ...r, status: r.role === 'keep' ? 'kept' : 'planned' }));
  const cio = (cioId: string): Reference => ({ kind: 'cio_id', value: cioId });
  const drops = rows.filter((r) => r.role === 'drop');
  const outcomes = await submitAll(
    writer,
    ctx,
    drops.map((r): Command =>
      action === 'merge'
        ? { kind: 'merge', primary: cio(r.kept_cio_id), secondary: cio(r.cio_id) }
        : { kind: 'delete', ref: cio(r.cio_id), reportMissing: true },
    ),
  );
  const byRow = new Map(drops.map((r, i) => [r, outcomes[i]!]));
  return rows.map((r): ResolvedRow => {
    const o = byRow.get(r);
    if (!o) return { ...r, status: 'kept' };
    const failure = outcomeFailure(o);
    if (!failure) return { ...r, status: action === 'merge' ? 'merged' : 'deleted' };
    return { ...r, status: failure.code === 'person_not_found' ? 'not_found' : 'failed', ...failure };
  });
}
