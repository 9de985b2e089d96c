import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { UsageError } from './session.js';

/** One data row of an input CSV: its line number and cells by header name. */
export interface InputRow {
  line: number;
  cells: Record<string, string>;
}

/** A row that could not be read (wrong number of fields, or the broken quoting that ended the file). */
export interface BadRow {
  line: number;
  raw: string[];
  message: string;
}

/** One chunk of a file; `stopped` on the last one when broken quoting ended the reading early. */
export interface CsvChunk {
  header: string[];
  rows: InputRow[];
  bad: BadRow[];
  stopped?: { line: number; message: string };
}

/**
 * Streams a CSV file with a header row, a chunk of rows at a time (never the whole file in memory). A row with a field
 * count other than the header's comes back as a bad row and the file goes on. Broken quoting stops the file there:
 * past an unclosed or stray quote no parser can say where the rows are, so the rest is not guessed at.
 */
export async function* readCsvChunks(
  file: string,
  chunkSize: number,
  checkHeader: (header: string[]) => void,
): AsyncGenerator<CsvChunk> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  const bad: BadRow[] = [];
  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, info: true }),
  );
  // The parser reads ahead of this loop and reports broken quoting as a skipped record; every record that ends
  // before that line is whole, and nothing from that line on is used.
  let stopped: CsvChunk['stopped'];
  parser.on('skip', (err: Error & { lines?: number }) => {
    stopped ??= { line: err.lines ?? 0, message: `${err.message} The rows after it were not read.` };
  });
  let header: string[] | null = null;
  let rows: InputRow[] = [];
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const { record, info } = item;
    if (stopped && info.lines >= stopped.line) break;
    if (header === null) {
      header = record.map((h) => h.trim());
      const seen = new Set<string>();
      for (const h of header) {
        if (h === '') throw new UsageError(`${file}: the header has an empty column name`);
        if (seen.has(h)) throw new UsageError(`${file}: the header names "${h}" twice`);
        seen.add(h);
      }
      checkHeader(header);
      continue;
    }
    if (record.length !== header.length) {
      bad.push({
        line: info.lines,
        raw: record,
        message: `The row has ${record.length} fields; the header has ${header.length}.`,
      });
    } else {
      const cells: Record<string, string> = {};
      header.forEach((h, i) => (cells[h] = record[i]!));
      rows.push({ line: info.lines, cells });
    }
    if (rows.length + bad.length >= chunkSize) {
      yield { header, rows, bad: bad.splice(0) };
      rows = [];
    }
  }
  if (header === null)
    throw new UsageError(
      stopped ? `${file}: the header cannot be read: ${stopped.message}` : `${file}: empty, no header row`,
    );
  if (stopped) {
    yield { header, rows, bad: [...bad.splice(0), { line: stopped.line, raw: [], message: stopped.message }], stopped };
    return;
  }
  if (rows.length > 0 || bad.length > 0) yield { header, rows, bad: bad.splice(0) };
}

/** A CSV written as it goes, created on the first row: callers can tell "no failures" by no file. */
export class LazyCsvWriter {
  private out: Stringifier | null = null;
  private done: Promise<void> | null = null;
  rows = 0;

  constructor(
    readonly path: string,
    private readonly header: string[],
  ) {}

  async write(row: unknown[]): Promise<void> {
    if (!this.out) {
      const file = createWriteStream(this.path);
      this.out = stringify({ header: true, columns: this.header });
      this.out.pipe(file);
      this.done = finished(file);
    }
    this.rows++;
    if (!this.out.write(row)) await new Promise((r) => this.out!.once('drain', r));
  }

  async close(): Promise<void> {
    if (!this.out) return;
    this.out.end();
    await this.done;
  }
}

/** The rows a file command could not do, written in input order a chunk at a time: line, code, message, cells. */
export class FailedRows {
  private out: LazyCsvWriter | null = null;
  private pending: { line: number; row: string[] }[] = [];

  constructor(private readonly path: string) {}

  add(line: number, code: string, message: string, cells: string[]): void {
    this.pending.push({ line, row: [String(line), code, message, ...cells] });
  }

  /** The row's cells fitted to the header, so the file stays rectangular: missing cells empty, extra ones joined. */
  private static fit(row: string[], width: number): string[] {
    if (row.length <= width) return [...row, ...Array<string>(width - row.length).fill('')];
    return [...row.slice(0, width - 1), row.slice(width - 1).join(',')];
  }

  /** Writes what was added since the last flush, sorted by line. */
  async flush(header: string[]): Promise<void> {
    this.out ??= this.pending.length
      ? new LazyCsvWriter(this.path, ['line', 'error_code', 'error_message', ...header])
      : null;
    this.pending.sort((a, b) => a.line - b.line);
    for (const p of this.pending.splice(0)) await this.out!.write(FailedRows.fit(p.row, header.length + 3));
  }

  /** Closes the file; its path, or null when no row failed (and no file was made). */
  async close(): Promise<string | null> {
    await this.out?.close();
    return this.out ? this.path : null;
  }
}

/** `people.csv` → `people.errors.csv`, next to the input. */
export const errorsPathFor = (input: string): string =>
  input.toLowerCase().endsWith('.csv') ? `${input.slice(0, -4)}.errors.csv` : `${input}.errors.csv`;
