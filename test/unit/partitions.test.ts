import { describe, expect, it } from 'vitest';
import { defaultPartition, monthStart, partitionName } from '../../src/store/partitions.js';

/** scaling.md, Partitions: one partition per UTC month, named after it. */
describe('monthly partitions', () => {
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ['mid-month', '2026-11-30T08:30:00Z', 0, '2026-11-01T00:00:00Z'],
    ['the first millisecond of a month', '2026-11-01T00:00:00Z', 0, '2026-11-01T00:00:00Z'],
    ['the last millisecond of a month', '2026-11-30T23:59:59.999Z', 0, '2026-11-01T00:00:00Z'],
    ['three months ahead, across a new year', '2026-11-30T08:30:00Z', 3, '2027-02-01T00:00:00Z'],
    ['a year back', '2026-01-15T00:00:00Z', -12, '2025-01-01T00:00:00Z'],
  ])('month start: %s', (_row, when, offset, start) => {
    expect(monthStart(at(when), offset)).toBe(at(start));
  });

  it('names a partition after its table, year and month; DEFAULT after its table', () => {
    expect(partitionName('events', at('2027-02-01T00:00:00Z'))).toBe('events_2027_02');
    expect(partitionName('activities', at('2026-11-01T00:00:00Z'))).toBe('activities_2026_11');
    expect(defaultPartition('events')).toBe('events_default');
  });
});
