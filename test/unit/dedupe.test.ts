/** domain/dedupe.ts: who is kept in a duplicate group, how values compare, and what `by`/`keep`/`action` accept. */
import { describe, expect, it } from 'vitest';
import {
  normalizeDuplicateValue,
  parseDedupeAction,
  parseDedupeKey,
  parseKeepRule,
  planDedupe,
  planRows,
  type DuplicateMember,
  type KeepRule,
} from '../../src/domain/dedupe.js';
import { named, ofBytes, refusalOf, show } from './support.js';

const person = (pk: number, createdAt: number, events = 0): DuplicateMember => ({
  pk,
  cioId: `c${pk}`,
  id: `u${pk}`,
  email: 'a@example.com',
  createdAt,
  events,
});

describe('planDedupe: which person of a group is kept', () => {
  const rows: { row: string; keep: KeepRule; people: DuplicateMember[]; kept: number }[] = [
    {
      row: 'oldest created_at wins',
      keep: 'oldest',
      people: [person(1, 300), person(2, 100), person(3, 200)],
      kept: 2,
    },
    {
      row: 'oldest: a tie goes to the first stored',
      keep: 'oldest',
      people: [person(5, 100), person(4, 100)],
      kept: 4,
    },
    {
      row: 'newest created_at wins',
      keep: 'newest',
      people: [person(1, 300), person(2, 100), person(3, 200)],
      kept: 1,
    },
    { row: 'newest: a tie goes to the last stored', keep: 'newest', people: [person(4, 100), person(5, 100)], kept: 5 },
    {
      row: 'most events wins',
      keep: 'most_events',
      people: [person(1, 100, 1), person(2, 200, 7), person(3, 300, 2)],
      kept: 2,
    },
    {
      row: 'most events: a tie goes to the oldest',
      keep: 'most_events',
      people: [person(1, 300, 3), person(2, 200, 3), person(3, 100, 1)],
      kept: 2,
    },
    {
      row: 'most events: no events at all keeps the oldest',
      keep: 'most_events',
      people: [person(9, 50), person(8, 60)],
      kept: 9,
    },
  ];
  it.each(named(rows, (r) => r.row))('%s', (_t, { keep, people, kept }) => {
    const [plan] = planDedupe([{ value: 'v', people }], keep);
    expect(plan!.keep.pk).toBe(kept);
    expect(plan!.drop.map((p) => p.pk).sort()).toEqual(
      people
        .map((p) => p.pk)
        .filter((pk) => pk !== kept)
        .sort(),
    );
  });

  it('a group of one is not a duplicate', () => {
    expect(planDedupe([{ value: 'v', people: [person(1, 1)] }], 'oldest')).toEqual([]);
  });

  it('planRows: the keeper first, then each drop naming the keeper and the action', () => {
    const plans = planDedupe([{ value: 'v', people: [person(2, 200, 4), person(1, 100)] }], 'oldest');
    expect(planRows(plans, 'merge')).toEqual([
      expect.objectContaining({
        role: 'keep',
        cio_id: 'c1',
        kept_cio_id: 'c1',
        reason: 'keep: oldest created_at (100)',
      }),
      expect.objectContaining({
        role: 'drop',
        cio_id: 'c2',
        kept_cio_id: 'c1',
        events: 4,
        reason: 'merge into cio_c1',
      }),
    ]);
    expect(planRows(plans, 'delete')[1]!.reason).toBe('delete; duplicate of cio_c1');
  });
});

describe('normalizeDuplicateValue: what counts as the same value', () => {
  const rows: { raw: unknown; value: string | null }[] = [
    { raw: 'a@example.com', value: 'a@example.com' },
    { raw: ' A@Example.COM ', value: 'a@example.com' },
    { raw: '+1 555 0100 ', value: '+1 555 0100' },
    { raw: 'Pro', value: 'Pro' },
    { raw: '', value: null },
    { raw: '   ', value: null },
    { raw: null, value: null },
    { raw: undefined, value: null },
    { raw: 42, value: '42' },
  ];
  it.each(named(rows, (r) => `${show(r.raw)} → ${show(r.value)}`))('%s', (_t, { raw, value }) => {
    expect(normalizeDuplicateValue(raw)).toBe(value);
  });
});

describe('parsing by, keep and action', () => {
  const byRows: { raw: unknown; refused: boolean }[] = [
    { raw: 'email', refused: false },
    { raw: 'secondary_email', refused: false },
    { raw: 'plan.tier', refused: false },
    { raw: ofBytes(150), refused: false },
    { raw: ofBytes(151), refused: true },
    { raw: 'id', refused: true },
    { raw: 'cio_id', refused: true },
    { raw: '', refused: true },
    { raw: 'a"b', refused: true },
    { raw: '$.x', refused: true },
    { raw: 'a\nb', refused: true },
    { raw: 7, refused: true },
  ];
  it.each(named(byRows, (r) => `by ${show(r.raw)} ${r.refused ? 'refused' : 'accepted'}`))('%s', (_t, r) => {
    expect(refusalOf(() => parseDedupeKey(r.raw)).code).toBe(r.refused ? 'invalid_query' : null);
  });
  it('by email is the email column; anything else an attribute', () => {
    expect(parseDedupeKey('email')).toEqual({ kind: 'email' });
    expect(parseDedupeKey('phone')).toEqual({ kind: 'attribute', name: 'phone' });
  });
  it('keep defaults to oldest; action has no default', () => {
    expect(parseKeepRule(undefined)).toBe('oldest');
    expect(parseKeepRule('most_events')).toBe('most_events');
    expect(refusalOf(() => parseKeepRule('first')).code).toBe('invalid_query');
    expect(parseDedupeAction('merge')).toBe('merge');
    expect(refusalOf(() => parseDedupeAction(undefined)).code).toBe('invalid_query');
  });
});
