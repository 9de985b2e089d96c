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

/**
 * A column type for `BulkTable.pgTypes`: JSON texts (attributes, activity and event data), sent as one text parameter
 * of the texts joined by newlines and split by PostgreSQL's `string_to_array`. JSON.stringify never writes a raw
 * newline (it escapes one in a string as `\n`), and neither side has anything to escape: as an array literal each
 * text went through JSON.stringify once more, escaping every quote, and array_in read it back character by character
 * (about 0.3 µs per value in Node, and a few percent of PostgreSQL's time under the batch load).
 */
export const jsonLines = 'jsonlines';

/** The SQL that reads parameter `n` as an array of the column type (for unnest). */
export function pgColumnParam(type: string, n: number): string {
  return type === jsonLines ? `string_to_array($${n}::text, chr(10))` : `$${n}::${type}[]`;
}

function joinLines(values: readonly unknown[]): string {
  for (const v of values)
    if (typeof v !== 'string' || v.includes('\n'))
      throw new Error('a jsonlines column holds something not from JSON.stringify');
  return values.join('\n');
}

/** Column arrays of the rows (each in column order), each encoded for its type (pgArray, or joined lines). */
export function pgColumns(
  rows: readonly (readonly unknown[])[],
  types: readonly string[],
): (string | readonly unknown[])[] {
  const columns = new Array<string | readonly unknown[]>(types.length);
  for (let c = 0; c < types.length; c++) {
    const column = new Array<unknown>(rows.length);
    for (let r = 0; r < rows.length; r++) column[r] = rows[r]![c];
    columns[c] = types[c] === jsonLines ? joinLines(column) : pgArray(column);
  }
  return columns;
}
