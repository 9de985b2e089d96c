import { stringify, type Stringifier } from 'csv-stringify';
import { Readable } from 'node:stream';
import type { PersonRecord } from '../store/people.js';
import { attributeCell, csvField, neutraliseFormula } from './csv-cells.js';
import { personCsvLine, personCsvLines, type PersonCsvSource } from './people-csv-line.js';

export { csvField, neutraliseFormula, personCsvLine, type PersonCsvSource };

/** The identifier and profile columns every people CSV starts with, before the attribute columns. */
export const fixedPeopleColumns = ['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed'] as const;

/** The columns of a people CSV: the fixed ones, then the attribute columns (a fixed name is not repeated). */
export function peopleCsvColumns(attributeKeys: readonly string[]): string[] {
  const fixed = new Set<string>(fixedPeopleColumns);
  return [...fixedPeopleColumns, ...attributeKeys.filter((k) => !fixed.has(k))];
}

/** One person as a row of cells, in the order of peopleCsvColumns(attributeKeys). Times are unix seconds. */
export function personCsvRow(p: PersonRecord, columns: readonly string[]): string[] {
  return columns.map((column) => {
    switch (column) {
      case 'cio_id':
        return neutraliseFormula(p.cioId);
      case 'id':
        return neutraliseFormula(p.id ?? '');
      case 'email':
        return neutraliseFormula(p.email ?? '');
      case 'created_at':
        return String(p.createdAt);
      case 'updated_at':
        return String(Math.floor(p.updatedAt / 1000));
      case 'unsubscribed':
        return p.unsubscribed ? 'true' : 'false';
      default:
        return attributeCell(Object.hasOwn(p.attributes, column) ? p.attributes[column] : undefined);
    }
  });
}

/**
 * A people CSV as a stream (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break;
 * UTF-8): a header row, then one row per person as `people` yields them. Backpressure reaches the source, so memory
 * stays flat however many people there are.
 */
export function peopleCsv(people: AsyncIterable<PersonRecord>, columns: readonly string[]): Stringifier {
  // quote_record_delimiter: a lone \n or \r in a value is quoted too (off by default once record_delimiter is set).
  const csv = stringify({ record_delimiter: '\r\n', quote_record_delimiter: true, quoted_empty: false });
  async function* rows() {
    yield columns.map(neutraliseFormula);
    for await (const p of people) yield personCsvRow(p, columns);
  }
  const source = Readable.from(rows());
  source.on('error', (err) => csv.destroy(err));
  return source.pipe(csv);
}

/** The header line of a people CSV with these columns. */
export const peopleCsvHeader = (columns: readonly string[]): string =>
  `${columns.map((c) => csvField(neutraliseFormula(c))).join(',')}\r\n`;

/** Characters of CSV text gathered before a piece is handed on (pieces never split a row). */
const pieceChars = 256 * 1024;

/** CSV lines of some people, and how many people they are. */
export interface CsvLines {
  /** The lines, as text or as UTF-8 bytes. */
  text: string | Uint8Array;
  rows: number;
}

/** The attribute columns of `columns`, which must be as peopleCsvColumns gives them. */
export function attributeColumnsOf(columns: readonly string[]): string[] {
  const fixed = new Set<string>(fixedPeopleColumns);
  const attributeColumns = columns.slice(fixedPeopleColumns.length);
  if (fixedPeopleColumns.some((c, i) => columns[i] !== c) || attributeColumns.some((c) => fixed.has(c)))
    throw new Error('people CSV columns must be as peopleCsvColumns gives them');
  return attributeColumns;
}

/** Each page of rows as its CSV lines. */
export async function* csvLinesOfPages(
  pages: AsyncIterable<readonly PersonCsvSource[]>,
  attributeColumns: readonly string[],
): AsyncGenerator<CsvLines> {
  for await (const page of pages) yield { text: personCsvLines(page, attributeColumns), rows: page.length };
}

/**
 * A people CSV as a stream of pieces: the header, then the lines as they come, text gathered into pieces of at least
 * 256 KB (an export's fast path: one chunk per piece rather than one per row), bytes passed on as they are. Lines are
 * asked for only as fast as the stream is read, one piece buffered; `onRows` counts the people of each lines taken.
 * Pieces never split a row, so each is whole UTF-8 on its own.
 */
export function peopleCsvFromLines(
  lines: AsyncIterable<CsvLines>,
  columns: readonly string[],
  onRows?: (n: number) => void,
): Readable {
  async function* pieces() {
    let piece = peopleCsvHeader(columns);
    for await (const { text, rows } of lines) {
      onRows?.(rows);
      if (typeof text !== 'string') {
        if (piece.length > 0) yield piece;
        piece = '';
        yield text;
        continue;
      }
      piece += text;
      if (piece.length >= pieceChars) {
        yield piece;
        piece = '';
      }
    }
    if (piece.length > 0) yield piece;
  }
  return Readable.from(pieces(), { objectMode: true, highWaterMark: 1 });
}

/** The same text as peopleCsv, from pages of rows read in this thread. */
export const peopleCsvFromPages = (
  pages: AsyncIterable<readonly PersonCsvSource[]>,
  columns: readonly string[],
  onRows?: (n: number) => void,
): Readable => peopleCsvFromLines(csvLinesOfPages(pages, attributeColumnsOf(columns)), columns, onRows);
