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
