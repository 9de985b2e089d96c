/**
 * identity.md, "Merge": the primary keeps its attributes and gains those it lacks; it gains the secondary's id/email
 * if it has none; an unsubscribe on either side sticks.
 */
import { describe, expect, it } from 'vitest';
import { mergePeople, type MergeSide } from '../../src/domain/merge.js';
import type { Attributes, AttributeValue } from '../../src/domain/attributes.js';
import { named } from './support.js';

const side = (over: Partial<MergeSide> = {}): MergeSide => ({
  id: null,
  email: null,
  attributes: {},
  timestamps: {},
  createdAt: 1_600_000_000,
  ...over,
});

describe('mergePeople: attributes', () => {
  it('the primary keeps its own value where both have the attribute, with its own timestamp', () => {
    const merged = mergePeople(
      side({ attributes: { plan: 'pro' }, timestamps: { plan: 1000 } }),
      side({ attributes: { plan: 'free' }, timestamps: { plan: 9000 } }),
    );
    expect(merged.attributes).toEqual({ plan: 'pro' });
    expect(merged.timestamps).toEqual({ plan: 1000 });
  });

  it('the primary gains the attributes it lacks, with the secondary’s timestamps', () => {
    const merged = mergePeople(
      side({ attributes: { plan: 'pro' }, timestamps: { plan: 1000 } }),
      side({
        attributes: { plan: 'free', city: 'Oslo', tags: ['a'] },
        timestamps: { plan: 2000, city: 3000, tags: 4000 },
      }),
    );
    expect(merged.attributes).toEqual({ plan: 'pro', city: 'Oslo', tags: ['a'] });
    expect(merged.timestamps).toEqual({ plan: 1000, city: 3000, tags: 4000 });
  });

  it('a falsy value on the primary (0, false) is a value: it is kept', () => {
    const merged = mergePeople(
      side({ attributes: { seats: 0, vip: false } }),
      side({ attributes: { seats: 5, vip: true } }),
    );
    expect(merged.attributes).toEqual({ seats: 0, vip: false });
  });

  it('an attribute named like an Object.prototype member (toString, valueOf) is gained like any other', () => {
    const merged = mergePeople(
      side({ attributes: { plan: 'pro' } }),
      side({ attributes: { toString: 'x', valueOf: 2 }, timestamps: { toString: 5000 } }),
    );
    expect(merged.attributes).toEqual({ plan: 'pro', toString: 'x', valueOf: 2 });
    expect(merged.timestamps).toEqual({ toString: 5000 });
  });

  it('does not modify either side', () => {
    const primary = side({ attributes: { a: 1 }, timestamps: { a: 1 } });
    const secondary = side({ attributes: { b: 2, unsubscribed: true }, timestamps: { b: 2 } });
    mergePeople(primary, secondary);
    expect(primary).toEqual(side({ attributes: { a: 1 }, timestamps: { a: 1 } }));
    expect(secondary).toEqual(side({ attributes: { b: 2, unsubscribed: true }, timestamps: { b: 2 } }));
  });
});

describe('mergePeople: identifiers (the primary gains the secondary’s id/email if it has none)', () => {
  const rows: {
    row: string;
    primary: Pick<MergeSide, 'id' | 'email'>;
    secondary: Pick<MergeSide, 'id' | 'email'>;
    result: Pick<MergeSide, 'id' | 'email'>;
  }[] = [
    {
      row: 'primary has both → keeps both',
      primary: { id: 'u1', email: 'jane@example.com' },
      secondary: { id: 'u2', email: 'sam@example.com' },
      result: { id: 'u1', email: 'jane@example.com' },
    },
    {
      row: 'primary has no id → gains the secondary’s id',
      primary: { id: null, email: 'jane@example.com' },
      secondary: { id: 'u2', email: 'sam@example.com' },
      result: { id: 'u2', email: 'jane@example.com' },
    },
    {
      row: 'primary has no email → gains the secondary’s email',
      primary: { id: 'u1', email: null },
      secondary: { id: 'u2', email: 'Sam@Example.com' },
      result: { id: 'u1', email: 'Sam@Example.com' },
    },
    {
      row: 'primary has neither → gains both',
      primary: { id: null, email: null },
      secondary: { id: 'u2', email: 'sam@example.com' },
      result: { id: 'u2', email: 'sam@example.com' },
    },
    {
      row: 'neither has them → none',
      primary: { id: null, email: null },
      secondary: { id: null, email: null },
      result: { id: null, email: null },
    },
  ];
  it.each(named(rows, (r) => r.row))('%s', (_title, { primary, secondary, result }) => {
    expect(mergePeople(side(primary), side(secondary))).toMatchObject(result);
  });
});

describe('mergePeople: unsubscribe sticks (Roster)', () => {
  type U = AttributeValue | undefined;
  const rows: { primary: U; secondary: U; unsubscribed: boolean; attribute: U }[] = [
    { primary: undefined, secondary: undefined, unsubscribed: false, attribute: undefined },
    { primary: true, secondary: undefined, unsubscribed: true, attribute: true },
    { primary: undefined, secondary: true, unsubscribed: true, attribute: true },
    { primary: false, secondary: true, unsubscribed: true, attribute: true },
    { primary: true, secondary: false, unsubscribed: true, attribute: true },
    { primary: true, secondary: true, unsubscribed: true, attribute: true },
    { primary: false, secondary: false, unsubscribed: false, attribute: false },
    { primary: undefined, secondary: false, unsubscribed: false, attribute: false },
  ];
  const attrs = (u: U): Attributes => (u === undefined ? {} : { unsubscribed: u });
  it.each(
    named(
      rows,
      (r) =>
        `primary ${String(r.primary ?? 'unset')}, secondary ${String(r.secondary ?? 'unset')} → ${r.unsubscribed ? 'unsubscribed' : 'subscribed'}`,
    ),
  )('%s', (_title, { primary, secondary, unsubscribed, attribute }) => {
    const merged = mergePeople(side({ attributes: attrs(primary) }), side({ attributes: attrs(secondary) }));
    expect(merged.unsubscribed).toBe(unsubscribed);
    expect(merged.attributes.unsubscribed).toBe(attribute);
  });
});

describe('mergePeople: created_at', () => {
  it.each(
    named(
      [
        { primary: 1000, secondary: 2000, result: 1000 },
        { primary: 2000, secondary: 1000, result: 1000 },
      ],
      (r) => `primary created ${r.primary}, secondary ${r.secondary} → ${r.result} (the older)`,
    ),
  )('%s', (_title, { primary, secondary, result }) => {
    expect(mergePeople(side({ createdAt: primary }), side({ createdAt: secondary })).createdAt).toBe(result);
  });
});
