/**
 * PostgreSQL array parameters for the writer's column arrays (`unnest($1::text[], $2::bigint[], …)`), encoded by
 * V8's JSON.stringify where that gives the same literal. node-postgres escapes each element with two regular
 * expressions; a batch's columns (attributes JSON in every row) spent about 15% of a server's busy time there.
 *
 * A JSON array of strings, numbers and nulls is an array literal once its brackets become braces, provided its
 * strings hold no escape but `\"` and `\\`: both formats quote strings in double quotes and escape those two alike,
 * PostgreSQL reads an unquoted `null` as NULL, and numbers as they are written. Anything else (a control character,
 * which JSON escapes as `\n` or `\u0001`; NUL; an element that is not a string, a finite number or null) is left to
 * node-postgres, which the client's NUL replacement (pg-client.ts) then sees as before.
 */
export function pgArray(values: readonly unknown[]): string | readonly unknown[] {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) return values;
  }
  const json = JSON.stringify(values);
  if (otherEscape.test(json)) return values;
  return `{${json.slice(1, -1)}}`;
}

// An escape other than `\"` and `\\`: a backslash that ends a run of odd length (the pairs before it are escaped
// backslashes) followed by anything but a quote or a backslash.
const otherEscape = /(?<!\\)(?:\\\\)*\\[^"\\]/;

/** Column arrays of the rows (each in column order), each as pgArray encodes it. */
export function pgColumns(rows: readonly (readonly unknown[])[], width: number): (string | readonly unknown[])[] {
  const columns = new Array<string | readonly unknown[]>(width);
  for (let c = 0; c < width; c++) {
    const column = new Array<unknown>(rows.length);
    for (let r = 0; r < rows.length; r++) column[r] = rows[r]![c];
    columns[c] = pgArray(column);
  }
  return columns;
}
