// One person's CSV line, without csv-stringify or streams: what an export worker thread loads (export-worker.ts).
import { csvField, isPlainCell, neutraliseFormula } from './csv-cells.js';

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
const textField = (cell: string): string => (isPlainCell(cell) ? cell : csvField(neutraliseFormula(cell)));

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

/** The CSV lines of some people, one after another. */
export function personCsvLines(rows: readonly PersonCsvSource[], attributeColumns: readonly string[]): string {
  let text = '';
  for (const row of rows) text += personCsvLine(row, attributeColumns);
  return text;
}
