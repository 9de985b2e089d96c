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

/**
 * A person as the export reads them, as an array row in this order: only the columns a CSV row needs, attributes
 * still as their JSON text (any further columns are ignored). Times may come as numbers or numeric text.
 */
export type PersonCsvSource = readonly [
  cioId: string,
  id: string | null,
  email: string | null,
  createdAtS: number | string,
  updatedAtMs: number | string,
  unsubscribed: number,
  attributes: string,
  ...rest: unknown[],
];

/** A text cell as CSV: neutralised against formulas, then quoted if it must be. */
const textField = (cell: string): string => csvField(neutraliseFormula(cell));

/** An attribute value as CSV (attributeCell, then csvField), with the common types first. */
function attributeField(value: unknown): string {
  if (typeof value === 'string') return textField(value);
  if (typeof value === 'number') return String(value); // JSON.stringify's text for any finite number
  if (value === undefined || value === null) return '';
  return csvField(JSON.stringify(value));
}

/**
 * The CSV line (CRLF included) of one person, the same text peopleCsv writes for `peopleCsvColumns(attributeKeys)`
 * but without building a PersonRecord or parsing attribute_ts: `attributeColumns` are the columns after the fixed
 * ones. The attributes are parsed only when there are attribute columns.
 */
export function personCsvLine(row: PersonCsvSource, attributeColumns: readonly string[]): string {
  let line =
    `${textField(row[0])},${textField(row[1] ?? '')},${textField(row[2] ?? '')},${Number(row[3])},` +
    `${Math.floor(Number(row[4]) / 1000)},${row[5] === 1 ? 'true' : 'false'}`;
  if (attributeColumns.length > 0) {
    const attributes = JSON.parse(row[6]) as Record<string, unknown>;
    for (const column of attributeColumns)
      line += `,${attributeField(Object.hasOwn(attributes, column) ? attributes[column] : undefined)}`;
  }
  return `${line}\r\n`;
}

/** The header line of a people CSV with these columns. */
export const peopleCsvHeader = (columns: readonly string[]): string =>
  `${columns.map((c) => csvField(neutraliseFormula(c))).join(',')}\r\n`;

/** Characters of CSV text gathered before a piece is handed on (pieces never split a row). */
const pieceChars = 256 * 1024;

/** CSV lines of some people, and how many people they are. */
export interface CsvLines {
  text: string;
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
  for await (const page of pages) {
    let text = '';
    for (const row of page) text += personCsvLine(row, attributeColumns);
    yield { text, rows: page.length };
  }
}

/**
 * A people CSV as a stream of text pieces of at least 256 KB: the header, then the lines as they come (an export's
 * fast path: one string per piece rather than one stream chunk per row). Lines are asked for only as fast as the
 * stream is read, one piece buffered; `onRows` counts the people of each piece of lines taken.
 */
export function peopleCsvFromLines(
  lines: AsyncIterable<CsvLines>,
  columns: readonly string[],
  onRows?: (n: number) => void,
): Readable {
  async function* pieces() {
    let piece = peopleCsvHeader(columns);
    for await (const { text, rows } of lines) {
      piece += text;
      onRows?.(rows);
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
