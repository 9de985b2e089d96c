/** people-csv.ts: the column layout, each cell's text, formula neutralising, and RFC 4180 output. */
import { describe, expect, it } from 'vitest';
import {
  neutraliseFormula,
  peopleCsv,
  peopleCsvColumns,
  peopleCsvFromPages,
  personCsvRow,
  type PersonCsvSource,
} from '../../src/csv/people-csv.js';
import { csvField, isPlainCell } from '../../src/csv/csv-cells.js';
import type { PersonRecord } from '../../src/store/people.js';
import { named, show } from './support.js';

const person = (over: Partial<PersonRecord> = {}): PersonRecord => ({
  pk: 1,
  workspacePk: 1,
  cioId: 'abc',
  id: 'p1',
  email: 'p1@example.com',
  emailKey: 'p1@example.com',
  attributes: {},
  timestamps: {},
  unsubscribed: false,
  createdAt: 1_600_000_000,
  updatedAt: 1_700_000_000_999,
  ...over,
});

async function text(people: PersonRecord[], columns: string[]): Promise<string> {
  let out = '';
  for await (const piece of peopleCsv(
    (async function* () {
      yield* people;
    })(),
    columns,
  ))
    out += String(piece);
  return out;
}

describe('neutraliseFormula', () => {
  const rows: [string, string][] = [
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['\uFF1D1', "'\uFF1D1"],
    ['a=1', 'a=1'],
    ['', ''],
    ["'already", "'already"],
    ['plain', 'plain'],
    ['a\u0000b', 'a\uFFFDb'],
    ['\u0000=', '\uFFFD='],
  ];
  it.each(named(rows, ([cell, out]) => `${show(cell)} → ${show(out)}`))('%s', (_t, [cell, out]) => {
    expect(neutraliseFormula(cell)).toBe(out);
  });
});

describe('isPlainCell (the fast path: a cell that is its own CSV)', () => {
  const rows: [string, boolean][] = [
    ['plain', true],
    ['', true],
    ['a=1', true],
    ['a+b-c@d', true],
    ["'quoted", true],
    ['ünïcödé ✓', true],
    ...['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'].map((c): [string, boolean] => [
      `${c}x`,
      false,
    ]),
    ...['"', ',', '\r', '\n', '\u0000'].flatMap((c): [string, boolean][] => [
      [`a${c}b`, false],
      [`ab${c}`, false],
    ]),
  ];
  it.each(named(rows, ([cell, plain]) => `${show(cell)} → ${plain}`))('%s', (_t, [cell, plain]) => {
    expect(isPlainCell(cell)).toBe(plain);
    // The fast path never changes a cell's text: a plain cell is exactly what the full rule writes.
    expect(csvField(neutraliseFormula(cell)) === cell).toBe(plain);
  });
});

describe('columns and rows', () => {
  it('fixed columns first; attribute names that repeat a fixed column are left out', () => {
    expect(peopleCsvColumns(['plan', 'email', 'age'])).toEqual([
      'cio_id',
      'id',
      'email',
      'created_at',
      'updated_at',
      'unsubscribed',
      'plan',
      'age',
    ]);
  });

  it('cells: unix seconds, true/false, JSON for non-strings, "" for missing, strings neutralised', () => {
    const p = person({
      id: null,
      unsubscribed: true,
      attributes: { s: '=x', n: -5, b: false, o: { a: [1] }, z: 'ok' },
    });
    expect(personCsvRow(p, peopleCsvColumns(['s', 'n', 'b', 'o', 'missing', 'z']))).toEqual([
      'abc',
      '',
      'p1@example.com',
      '1600000000',
      '1700000000',
      'true',
      "'=x",
      '-5',
      'false',
      '{"a":[1]}',
      '',
      'ok',
    ]);
  });

  it('an attribute named like an Object.prototype member is an ordinary column', () => {
    expect(personCsvRow(person(), ['toString', 'constructor'])).toEqual(['', '']);
  });
});

describe('peopleCsv (RFC 4180)', () => {
  it('CRLF line ends; commas, quotes and line breaks quoted; the header neutralised too', async () => {
    const p = person({ attributes: { a: 'x,y', b: 'say "hi"', c: 'l1\nl2', d: 'r\rn' } });
    expect(await text([p], ['cio_id', 'a', 'b', 'c', 'd', '=evil'])).toBe(
      'cio_id,a,b,c,d,\'=evil\r\nabc,"x,y","say ""hi""","l1\nl2","r\rn",\r\n',
    );
  });

  it('no people: the header only', async () => {
    expect(await text([], ['cio_id', 'id'])).toBe('cio_id,id\r\n');
  });
});

describe('streaming', () => {
  it('pulls people only as fast as the CSV is read (memory stays flat)', async () => {
    let pulled = 0;
    const endless = (async function* () {
      for (;;) {
        pulled++;
        yield person({ pk: pulled, id: `p${pulled}`, attributes: { note: 'x'.repeat(100) } });
      }
    })();
    const csv = peopleCsv(endless, peopleCsvColumns(['note']));
    let bytes = 0;
    for await (const piece of csv) {
      bytes += Buffer.byteLength(String(piece));
      if (bytes > 200_000) break;
    }
    // ~1,300 rows were read; what was pulled beyond them is bounded by the stream buffers, not by the source.
    expect(pulled).toBeLessThan(2_000);
  });
});

describe('peopleCsvFromPages (the export path)', () => {
  const source = (p: PersonRecord): PersonCsvSource => [
    p.cioId,
    p.id,
    p.email,
    p.createdAt,
    p.updatedAt,
    p.unsubscribed ? 1 : 0,
    JSON.stringify(p.attributes),
  ];
  const people = [
    person(),
    person({ cioId: '=cio', id: null, email: null, unsubscribed: true, updatedAt: 999 }),
    person({ id: 'a,"b"', email: '+x@example.com', attributes: { a: 'x,y', b: 'say "hi"', c: 'l1\nl2', d: 'r\rn' } }),
    person({ id: '-1', attributes: { n: -5, t: true, o: { k: [1, 'v,w'] }, e: '', f: '@f', u: '\u0000=' } }),
    person({ id: 'toString', attributes: { toString: 'x', constructor: 1 } }),
  ];

  async function fast(pages: PersonRecord[][], columns: string[]): Promise<{ text: string; counted: number }> {
    let counted = 0;
    const csv = peopleCsvFromPages(
      (async function* () {
        for (const page of pages) yield page.map(source);
      })(),
      columns,
      (n) => (counted += n),
    );
    let text = '';
    for await (const piece of csv) text += String(piece);
    return { text, counted };
  }

  it('writes the same text as peopleCsv, for every column set', async () => {
    for (const keys of [
      [],
      ['a', 'b', 'c', 'd'],
      ['n', 't', 'o', 'z', 'e', 'f', 'u', 'missing'],
      ['toString', 'constructor', '=evil'],
    ]) {
      const columns = peopleCsvColumns(keys);
      const { text: got, counted } = await fast([people.slice(0, 2), [], people.slice(2)], columns);
      expect(got).toBe(await text(people, columns));
      expect(counted).toBe(people.length);
    }
  });

  it('no people: the header only', async () => {
    expect((await fast([], ['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed'])).text).toBe(
      'cio_id,id,email,created_at,updated_at,unsubscribed\r\n',
    );
  });

  it('refuses columns not laid out by peopleCsvColumns', () => {
    expect(() => peopleCsvFromPages((async function* () {})(), ['id', 'cio_id'])).toThrow(/peopleCsvColumns/);
  });

  it('reads pages only as fast as the CSV is read', async () => {
    let pulled = 0;
    const endless = (async function* () {
      for (;;) {
        pulled++;
        yield Array.from({ length: 100 }, (_, i) =>
          source(person({ pk: i, id: `p${pulled}-${i}`, attributes: { note: 'x'.repeat(100) } })),
        );
      }
    })();
    let bytes = 0;
    for await (const piece of peopleCsvFromPages(endless, peopleCsvColumns(['note']))) {
      bytes += Buffer.byteLength(String(piece));
      if (bytes > 1_000_000) break;
    }
    // ~4,000 rows were read; what was pulled beyond them is a piece or two (~1,600 rows each), not the source.
    expect(pulled * 100).toBeLessThan(10_000);
  });
});
