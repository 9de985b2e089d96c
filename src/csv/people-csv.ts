import { stringify, type Stringifier } from 'csv-stringify';
import { Readable } from 'node:stream';
import type { PersonRecord } from '../store/people.js';

/** The identifier and profile columns every people CSV starts with, before the attribute columns. */
export const fixedPeopleColumns = ['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed'] as const;

/** The columns of a people CSV: the fixed ones, then the attribute columns (a fixed name is not repeated). */
export function peopleCsvColumns(attributeKeys: readonly string[]): string[] {
  const fixed = new Set<string>(fixedPeopleColumns);
  return [...fixedPeopleColumns, ...attributeKeys.filter((k) => !fixed.has(k))];
}

// A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); the fullwidth forms are
// what Apple Numbers normalises to them.
const formulaStart = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/**
 * A text cell that a spreadsheet would run as a formula gets a leading `'`, so it is shown as text. A NUL character
 * (which PostgreSQL text cannot hold, and no spreadsheet shows) becomes U+FFFD.
 */
export function neutraliseFormula(cell: string): string {
  const text = cell.includes('\u0000') ? cell.replaceAll('\u0000', '\uFFFD') : cell;
  return text.length > 0 && formulaStart.has(text[0]!) ? `'${text}` : text;
}

/** One attribute value as a cell: text as it is (neutralised), anything else as its JSON text. */
function attributeCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  // A JSON number such as -5 is a number to a spreadsheet, never a formula.
  if (typeof value === 'string') return neutraliseFormula(value);
  return JSON.stringify(value);
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

// csv-stringify's rule with this file's options (delimiter `,`, quote and escape `"`, quote_record_delimiter): a
// field is quoted when it holds a comma, a quote or a line break, and its quotes are doubled.
const needsQuotes = /[",\r\n]/;

/** One cell as RFC 4180 text, exactly as peopleCsv writes it. */
export function csvField(cell: string): string {
  return needsQuotes.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** A person as the export reads them: only the columns a CSV row needs, attributes still as their JSON text. */
export interface PersonCsvSource {
  cio_id: string;
  id: string | null;
  email: string | null;
  created_at_s: number | string;
  updated_at: number | string;
  unsubscribed: number;
  attributes: string;
}

/**
 * The CSV line (CRLF included) of one person, the same text peopleCsv writes for `peopleCsvColumns(attributeKeys)`
 * but without building a PersonRecord or parsing attribute_ts: `attributeColumns` are the columns after the fixed
 * ones. The attributes are parsed only when there are attribute columns.
 */
export function personCsvLine(row: PersonCsvSource, attributeColumns: readonly string[]): string {
  let line =
    `${csvField(neutraliseFormula(row.cio_id))},${csvField(neutraliseFormula(row.id ?? ''))},` +
    `${csvField(neutraliseFormula(row.email ?? ''))},${Number(row.created_at_s)},` +
    `${Math.floor(Number(row.updated_at) / 1000)},${row.unsubscribed === 1 ? 'true' : 'false'}`;
  if (attributeColumns.length > 0) {
    const attributes = JSON.parse(row.attributes) as Record<string, unknown>;
    for (const column of attributeColumns)
      line += `,${csvField(attributeCell(Object.hasOwn(attributes, column) ? attributes[column] : undefined))}`;
  }
  return `${line}\r\n`;
}

/** The header line of a people CSV with these columns. */
export const peopleCsvHeader = (columns: readonly string[]): string =>
  `${columns.map((c) => csvField(neutraliseFormula(c))).join(',')}\r\n`;

/** Characters of CSV text gathered before a piece is handed on (pieces never split a row). */
const pieceChars = 256 * 1024;

/**
 * A people CSV as a stream of text pieces of about 256 KB, from pages of rows (an export's fast path: one string
 * per piece rather than one stream chunk per row). The same text as peopleCsv; pages are read only as fast as the
 * stream is, one piece buffered.
 */
export function peopleCsvFromPages(
  pages: AsyncIterable<readonly PersonCsvSource[]>,
  columns: readonly string[],
  onRows?: (n: number) => void,
): Readable {
  const fixed = new Set<string>(fixedPeopleColumns);
  const attributeColumns = columns.slice(fixedPeopleColumns.length);
  if (fixedPeopleColumns.some((c, i) => columns[i] !== c) || attributeColumns.some((c) => fixed.has(c)))
    throw new Error('peopleCsvFromPages: columns as peopleCsvColumns gives them');
  async function* pieces() {
    let piece = peopleCsvHeader(columns);
    for await (const page of pages) {
      for (const row of page) {
        piece += personCsvLine(row, attributeColumns);
        if (piece.length >= pieceChars) {
          yield piece;
          piece = '';
        }
      }
      onRows?.(page.length);
    }
    if (piece.length > 0) yield piece;
  }
  return Readable.from(pieces(), { objectMode: true, highWaterMark: 1 });
}
