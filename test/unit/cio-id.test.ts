import { describe, expect, it } from 'vitest';
import { newCioId } from '../../src/store/people.js';

describe('newCioId', () => {
  it('is 13 lowercase base-36 characters', () => {
    for (let i = 0; i < 1000; i++) expect(newCioId()).toMatch(/^[0-9a-z]{13}$/);
  });

  it('starts with the second it was made, so ids made together sit together in the index', () => {
    const t = Date.UTC(2026, 10, 30, 12, 0, 0);
    const sameSecond = Array.from({ length: 100 }, (_, i) => newCioId(t + i * 9));
    const prefixes = new Set(sameSecond.map((id) => id.slice(0, 5)));
    expect(prefixes.size).toBe(1);
    const nextSecond = newCioId(t + 1000);
    expect(nextSecond.slice(0, 5) > sameSecond[0]!.slice(0, 5)).toBe(true);
    expect(sameSecond.every((id) => id < nextSecond)).toBe(true);
  });

  it('draws the rest at random: no repeats among many made in one second', () => {
    const t = Date.now();
    const ids = new Set(Array.from({ length: 20_000 }, () => newCioId(t)));
    expect(ids.size).toBe(20_000);
    // 8 random base-36 characters: every position takes many values.
    for (let pos = 5; pos < 13; pos++) expect(new Set([...ids].map((id) => id[pos])).size).toBeGreaterThan(30);
  });
});
