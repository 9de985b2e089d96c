import { describe, expect, it } from 'vitest';
import { writerThreadWanted } from '../../src/ingest/writer-thread.js';

describe('writerThreadWanted (ROSTER_WRITER_THREAD)', () => {
  it.each([
    [undefined, 2, true],
    [undefined, 1, false],
    ['', 8, true],
    ['0', 2, false],
    ['1', 1, true],
    ['1', 2, true],
  ])('%j with %i cores → %s', (value, cores, wanted) => {
    expect(writerThreadWanted(value === undefined ? {} : { ROSTER_WRITER_THREAD: value }, cores)).toBe(wanted);
  });

  it.each(['yes', 'true', '2', ' 1'])('refuses %j', (value) => {
    expect(() => writerThreadWanted({ ROSTER_WRITER_THREAD: value }, 2)).toThrow(/ROSTER_WRITER_THREAD must be 0 or 1/);
  });
});
