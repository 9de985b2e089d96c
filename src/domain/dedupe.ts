import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';

/** Which person of a duplicate group stays: the oldest `created_at` (the seed's advice), the newest, the busiest. */
export type KeepRule = 'oldest' | 'newest' | 'most_events';
/** What happens to the others: merged into the one kept (history moves, identity.md Merge), or deleted. */
export type DedupeAction = 'merge' | 'delete';

export const keepRules: readonly KeepRule[] = ['oldest', 'newest', 'most_events'];
export const dedupeActions: readonly DedupeAction[] = ['merge', 'delete'];

/** What people are grouped by: the email column, or one attribute. */
export type DedupeKey = { kind: 'email' } | { kind: 'attribute'; name: string };

/** One person of a duplicate group, as the scan reads them. */
export interface DuplicateMember {
  pk: number;
  cioId: string;
  id: string | null;
  email: string | null;
  /** Unix seconds. */
  createdAt: number;
  events: number;
}

/** People sharing one normalised value. */
export interface DuplicateGroup {
  value: string;
  people: DuplicateMember[];
}

/** The decision for one group: who stays, who goes, and why. */
export interface GroupPlan {
  value: string;
  keep: DuplicateMember;
  drop: DuplicateMember[];
  reason: string;
}

// Control characters and the double quote cannot be named in a JSON path on SQLite; no real attribute needs them.
// eslint-disable-next-line no-control-regex
const unusableInName = /["\u0000-\u001f\u007f]/;

/** Reads `by`: `email` (the email column) or an attribute name. Identifiers that are unique by rule are refused. */
export function parseDedupeKey(raw: unknown): DedupeKey {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw fail('invalid_query', 'by: required, email or an attribute name.', 'by');
  if (raw === 'email') return { kind: 'email' };
  if (raw === 'id' || raw === 'cio_id')
    throw fail('invalid_query', `by: ${raw} is unique per workspace, so it has no duplicates.`, 'by');
  if (byteLength(raw) > limits.attributeNameBytes || unusableInName.test(raw) || raw.startsWith('$'))
    throw fail('invalid_query', 'by: not a usable attribute name.', 'by');
  return { kind: 'attribute', name: raw };
}

/** Reads `keep` (default `oldest`). */
export function parseKeepRule(raw: unknown): KeepRule {
  if (raw === undefined || raw === null) return 'oldest';
  if (typeof raw === 'string' && (keepRules as string[]).includes(raw)) return raw as KeepRule;
  throw fail('invalid_query', `keep: one of ${keepRules.join(', ')}.`, 'keep');
}

/** Reads `action`: required, since the two differ in what survives. */
export function parseDedupeAction(raw: unknown): DedupeAction {
  if (typeof raw === 'string' && (dedupeActions as string[]).includes(raw)) return raw as DedupeAction;
  throw fail('invalid_query', `action: one of ${dedupeActions.join(', ')}.`, 'action');
}

/**
 * The value people are compared by, as the SQL scan computes it: spaces trimmed; a value containing `@` (an email)
 * lowercased. Empty values group nobody. Kept here so the rule is stated once and tested; the store mirrors it.
 */
export function normalizeDuplicateValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const trimmed = text.replace(/^ +| +$/g, '');
  if (trimmed === '') return null;
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
}

/** Orders members so the first is the one to keep; ties fall back to the older, then the lower pk (first stored). */
const rank: Record<KeepRule, (a: DuplicateMember, b: DuplicateMember) => number> = {
  oldest: (a, b) => a.createdAt - b.createdAt || a.pk - b.pk,
  newest: (a, b) => b.createdAt - a.createdAt || b.pk - a.pk,
  most_events: (a, b) => b.events - a.events || a.createdAt - b.createdAt || a.pk - b.pk,
};

const why: Record<KeepRule, (p: DuplicateMember) => string> = {
  oldest: (p) => `oldest created_at (${p.createdAt})`,
  newest: (p) => `newest created_at (${p.createdAt})`,
  most_events: (p) => `most events (${p.events})`,
};

/** Decides, for each group of two or more people, who is kept and who is merged away or deleted. */
export function planDedupe(groups: readonly DuplicateGroup[], keep: KeepRule): GroupPlan[] {
  const plans: GroupPlan[] = [];
  for (const g of groups) {
    if (g.people.length < 2) continue;
    const [first, ...rest] = [...g.people].sort(rank[keep]);
    plans.push({ value: g.value, keep: first!, drop: rest, reason: why[keep](first!) });
  }
  return plans;
}

/** One row of a plan as CSV/JSON shows it. */
export interface PlanRow {
  value: string;
  role: 'keep' | 'drop';
  cio_id: string;
  id: string | null;
  email: string | null;
  created_at: number;
  events: number;
  kept_cio_id: string;
  reason: string;
}

/** Flattens plans into keep/drop rows, the keeper first in each group. */
export function planRows(plans: readonly GroupPlan[], action: DedupeAction): PlanRow[] {
  const row = (p: DuplicateMember, role: 'keep' | 'drop', plan: GroupPlan, reason: string): PlanRow => ({
    value: plan.value,
    role,
    cio_id: p.cioId,
    id: p.id,
    email: p.email,
    created_at: p.createdAt,
    events: p.events,
    kept_cio_id: plan.keep.cioId,
    reason,
  });
  const verb = action === 'merge' ? 'merge into' : 'delete; duplicate of';
  return plans.flatMap((plan) => [
    row(plan.keep, 'keep', plan, `keep: ${plan.reason}`),
    ...plan.drop.map((p) => row(p, 'drop', plan, `${verb} cio_${plan.keep.cioId}`)),
  ]);
}
