/**
 * The benchmark's Segment messageIds (bench/workload.mjs): `BENCH_MESSAGE_IDS` picks the form, so a run can measure
 * the ids real clients send, not only the default sequential ones.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, without types
import { createMessageIds } from '../../bench/workload.mjs';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createMessageIds', () => {
  it.each([
    { form: 'sequential', shape: /^bench-\d+-\d+$/ },
    { form: 'node', shape: /^node-next-\d{13}-[0-9a-f-]{36}$/ },
    { form: 'uuid', shape: uuidV4 },
  ])('$form: ids of its shape, each new', ({ form, shape }) => {
    const next = (createMessageIds as (form: string) => () => string)(form);
    const ids = Array.from({ length: 50 }, next);
    for (const id of ids) expect(id).toMatch(shape);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a form it does not know', () => {
    expect(() => (createMessageIds as (form: string) => () => string)('random')).toThrow(/BENCH_MESSAGE_IDS/);
  });
});
