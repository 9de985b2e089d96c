import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NulSafeClient } from '../../src/store/pg-client.js';
import { jsonLines, pgArray, pgColumnParam, pgColumns } from '../../src/store/pg-arrays.js';
import { freshPostgresSchema, testBackend } from '../helpers/backend.js';

/**
 * pgArray: the writer's column arrays as array literals made by JSON.stringify where that gives the same literal,
 * else left to node-postgres. Every row goes to PostgreSQL and must come back exactly as it was sent.
 */
const rows: { row: string; type: string; values: unknown[]; fast: boolean }[] = [
  { row: 'plain strings', type: 'text', values: ['a', 'b c', 'u1@bench.example'], fast: true },
  { row: 'quotes and backslashes', type: 'text', values: ['say "hi"', 'C:\\dir\\', '\\"', '"'], fast: true },
  {
    row: 'JSON text (attributes)',
    type: 'text',
    values: [JSON.stringify({ plan: 'pro', note: 'a "b" \\ c', n: [1, 2] }), '{}', '[]'],
    fast: true,
  },
  {
    row: 'array syntax inside strings',
    type: 'text',
    values: ['{a,b}', 'x,y', '}', '{', ' lead', 'trail '],
    fast: true,
  },
  { row: 'NULL and the string "NULL"', type: 'text', values: [null, 'NULL', 'null', ''], fast: true },
  { row: 'non-ASCII and emoji', type: 'text', values: ['é', 'Zoë', '日本', '😀'], fast: true },
  { row: 'an empty array', type: 'text', values: [], fast: true },
  { row: 'bigints with nulls', type: 'bigint', values: [1_764_555_555_123, null, -5, 0], fast: true },
  { row: 'ints', type: 'int', values: [1, 2, 3], fast: true },
  { row: 'newline and tab (JSON escapes them)', type: 'text', values: ['a\nb', '\tc'], fast: false },
  { row: 'a control character', type: 'text', values: ['\u0001'], fast: false },
  {
    row: 'a backslash before a letter (escaped, not an escape)',
    type: 'text',
    values: ['\\n is not a newline', '\\\\u'],
    fast: true,
  },
  { row: 'an escaped backslash, then a newline', type: 'text', values: ['\\\n'], fast: false },
  { row: 'a boolean element', type: 'text', values: ['x', true], fast: false },
];

describe('pgArray: which arrays JSON.stringify encodes', () => {
  it.each(rows.map((r) => [`${r.row} → ${r.fast ? 'a literal' : 'left to node-postgres'}`, r] as const))(
    '%s',
    (_title, { values, fast }) => {
      const encoded = pgArray(values);
      if (fast) expect(typeof encoded).toBe('string');
      else expect(encoded).toBe(values);
    },
  );

  it('a number that is not finite is left to node-postgres (JSON would make it null)', () => {
    const values = [1, Number.NaN];
    expect(pgArray(values)).toBe(values);
  });

  it('pgColumns turns rows into one array per column, a jsonlines column into its texts joined by newlines', () => {
    expect(
      pgColumns(
        [
          [1, 'a', '{"x":1}'],
          [2, null, '[]'],
        ],
        ['int', 'text', jsonLines],
      ),
    ).toEqual(['{1,2}', '{"a",null}', '{"x":1}\n[]']);
    expect(pgColumnParam(jsonLines, 3)).toBe('string_to_array($3::text, chr(10))');
    expect(pgColumnParam('bigint', 1)).toBe('$1::bigint[]');
  });

  it('a jsonlines column refuses what JSON.stringify cannot have written (a raw newline, a non-string)', () => {
    expect(() => pgColumns([['a\nb']], [jsonLines])).toThrow(/jsonlines/);
    expect(() => pgColumns([[null]], [jsonLines])).toThrow(/jsonlines/);
  });
});

describe.runIf(testBackend === 'postgres')('pgArray on PostgreSQL: every array comes back as sent', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let client: pg.Client;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    client = new NulSafeClient({ connectionString: schema.url }) as unknown as pg.Client;
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await schema.drop();
  });

  it.each(rows.map((r) => [r.row, r] as const))('%s', async (_title, { type, values }) => {
    const { rows: out } = await client.query(`select $1::${type}[] as a`, [pgArray(values)]);
    const expected = values.map((v) => (typeof v === 'boolean' ? String(v) : v));
    expect(out[0].a.map((v: unknown) => (type === 'text' || v === null ? v : Number(v)))).toEqual(expected);
  });

  it('random strings of quotes, backslashes, braces, commas, letters and control characters come back as sent', async () => {
    const alphabet = ['"', '\\', '{', '}', ',', ' ', 'n', 'u', '0', 'N', 'U', 'L', '\n', '\t', 'é', '😀'];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let i = 0; i < 300; i++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
        random() < 0.1
          ? null
          : Array.from(
              { length: Math.floor(random() * 8) },
              () => alphabet[Math.floor(random() * alphabet.length)],
            ).join(''),
      );
      const { rows: out } = await client.query(`select $1::text[] as a`, [pgArray(values)]);
      expect(out[0].a).toEqual(values);
    }
  });

  it('jsonlines: random JSON texts (quotes, backslashes, escaped newlines and controls, non-ASCII) come back as sent', async () => {
    const pieces = ['"', '\\', '\n', '\r', '\t', '\u0001', '\u0000', 'é', '😀', '{', '}', ',', ' ', 'a', 'null'];
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const text = () =>
      Array.from({ length: Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    for (let i = 0; i < 200; i++) {
      const values = Array.from({ length: Math.floor(random() * 5) }, () =>
        JSON.stringify(random() < 0.5 ? { [text()]: text(), n: [random(), null, true] } : [text(), { k: text() }]),
      );
      const { rows: out } = await client.query(`select ${pgColumnParam(jsonLines, 1)} as a`, [
        pgColumns(
          values.map((v) => [v]),
          [jsonLines],
        )[0],
      ]);
      expect(out[0].a).toEqual(values);
    }
  });

  it('NUL in a string is replaced by U+FFFD on the way, as for any parameter', async () => {
    const { rows: out } = await client.query(`select $1::text[] as a`, [pgArray(['a\u0000b', 'c'])]);
    expect(out[0].a).toEqual(['a\ufffdb', 'c']);
  });
});
