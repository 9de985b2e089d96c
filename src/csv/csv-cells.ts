// The cell rules every people CSV writer shares: formula neutralising, JSON values, quoting.

// A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); the fullwidth forms are
// what Apple Numbers normalises to them.
const formulaStart = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

const formulaStartCodes = new Set([...formulaStart].map((c) => c.charCodeAt(0)));

/**
 * Whether a text cell is already its own CSV, neither neutralised nor quoted by the rules below: no formula start,
 * no quote, comma or line break, no NUL. Most cells are, and one pass over the characters costs an export less than
 * the three passes of the full rule.
 */
export function isPlainCell(cell: string): boolean {
  if (cell.length > 0 && formulaStartCodes.has(cell.charCodeAt(0))) return false;
  for (let i = 0; i < cell.length; i++) {
    const c = cell.charCodeAt(i);
    if (c === 0x22 || c === 0x2c || c === 0x0d || c === 0x0a || c === 0) return false; // " , CR LF NUL
  }
  return true;
}

/**
 * A text cell that a spreadsheet would run as a formula gets a leading `'`, so it is shown as text. A NUL character
 * (which PostgreSQL text cannot hold, and no spreadsheet shows) becomes U+FFFD.
 */
export function neutraliseFormula(cell: string): string {
  const text = cell.includes('\u0000') ? cell.replaceAll('\u0000', '\uFFFD') : cell;
  return text.length > 0 && formulaStart.has(text[0]!) ? `'${text}` : text;
}

/** One attribute value as a cell: text as it is (neutralised), anything else as its JSON text. */
export function attributeCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  // A JSON number such as -5 is a number to a spreadsheet, never a formula.
  if (typeof value === 'string') return neutraliseFormula(value);
  return JSON.stringify(value);
}

// csv-stringify's rule with this file's options (delimiter `,`, quote and escape `"`, quote_record_delimiter): a
// field is quoted when it holds a comma, a quote or a line break, and its quotes are doubled.
const needsQuotes = /[",\r\n]/;

/** One cell as RFC 4180 text, exactly as peopleCsv writes it. */
export function csvField(cell: string): string {
  return needsQuotes.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
