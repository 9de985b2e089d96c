import { availableParallelism } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/domain/filters.js';
import { countMatching, filterContext } from '../../src/queries/people-filter.js';
import { newCioId, peopleStore } from '../../src/store/people.js';
import { writeTransaction } from '../../src/store/write-transaction.js';
import { useStore } from '../helpers/store.js';

/**
 * countMatching on a big workspace: on SQLite it cuts the workspace's pks into ranges counted by worker threads at
 * once (src/queries/parallel-count.ts); on PostgreSQL it is one query. Either way the count must be the one query's
 * count, with another workspace's people between ours.
 */

const t = useStore('roster-parallel-count-');
const ws = 3;
const other = 4;
const plans = ['free', 'pro', 'team'];
const countries = ['US', 'GB', 'DE', 'FR'];

beforeAll(async () => {
  await writeTransaction(t.store.writer, async (trx) => {
    for (let i = 0; i < 1500; i++)
      for (const workspacePk of i % 3 === 0 ? [ws, other] : [ws])
        await peopleStore.insert(
          trx,
          {
            workspacePk,
            cioId: newCioId(),
            id: `p${i}`,
            email: null,
            emailKey: null,
            attributes: { plan: plans[i % 3]!, country: countries[i % 4]!, n: i },
            timestamps: {},
            unsubscribed: false,
            createdAt: 1_700_000_000 + i,
            updatedAt: 1_700_000_000_000,
          },
          null,
        );
  });
});

const filters: [string, unknown, number][] = [
  ['everyone', { and: [] }, 1500],
  ['plan eq pro', { attribute: { field: 'plan', operator: 'eq', value: 'pro' } }, 500],
  [
    'plan eq pro and country in [US, GB]',
    {
      and: [
        { attribute: { field: 'plan', operator: 'eq', value: 'pro' } },
        { attribute: { field: 'country', operator: 'in', value: ['US', 'GB'] } },
      ],
    },
    250,
  ],
  ['n gt 1000', { attribute: { field: 'n', operator: 'gt', value: 1000 } }, 499],
  ['no one', { or: [] }, 0],
];

describe('countMatching', () => {
  it.each(filters)('%s: in threads as in one query', async (_title, raw, expected) => {
    const node = parseFilter(raw);
    const ctx = await filterContext(t.store.reader, ws, node, false);
    let threads = 0;
    const split = await countMatching(t.store.reader, node, ctx, { parallelAbove: 1, onThreads: (n) => (threads = n) });
    const whole = await countMatching(t.store.reader, node, ctx, { parallelAbove: Infinity });
    expect({ split, whole }).toEqual({ split: expected, whole: expected });
    // SQLite counted in worker threads, one per core up to 4 (the built worker exists: npm test builds first), unless
    // the machine has one core; PostgreSQL never does.
    const cores = Math.min(availableParallelism(), 4);
    expect(threads).toBe(t.store.dialect === 'sqlite' && cores > 1 ? cores : 0);
  });
});
