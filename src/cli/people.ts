import { peopleExportCommand } from './people-export.js';
import type { Command } from 'commander';
import { RosterError } from '../domain/errors.js';
import { hasIdentifierColumn, identifyFromRow, referenceFromRow } from '../domain/people-csv.js';
import type { Reference } from '../domain/identifiers.js';
import { deletePeople, outcomeFailure, submitAll } from '../ingest/bulk.js';
import type { Command as WriteCommand } from '../ingest/commands.js';
import { peopleStore } from '../store/people.js';
import { errorsPathFor, FailedRows, readCsvChunks, type CsvChunk, type InputRow } from './csv-files.js';
import { UsageError, withWorkspace } from './session.js';

/** Rows submitted to the writer at once: full group-commit batches, little memory. */
const chunkSize = 1000;

interface FileOptions {
  workspace: string;
  errors?: string;
  json?: boolean;
}

const requireIdentifierColumn = (header: string[]) => {
  if (!hasIdentifierColumn(header)) throw new UsageError('The header needs an id, email or cio_id column.');
};

/** Runs a file command; a UsageError (bad file, bad header) is printed with exit code 2. */
async function guarded(fn: () => Promise<void>) {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    process.exitCode = 2;
  }
}

/** Progress on a terminal's stderr, redrawn in place after each chunk; nothing when stderr is not a terminal. */
function progress(counts: Record<string, number>) {
  if (!process.stderr.isTTY) return;
  const parts = Object.entries(counts).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v.toLocaleString('en-US')}`);
  process.stderr.write(`\r${parts.join(', ')}…`);
}

/** Broken quoting ended the file early: says where on stderr, exit code 1 (the rows before it were done). */
function reportStop(stopped: CsvChunk['stopped']) {
  if (!stopped) return;
  console.error(`Stopped at line ${stopped.line}: ${stopped.message}`);
  process.exitCode = 1;
}

/** Prints the summary: one line for people, one JSON object with --json. */
function printSummary(o: FileOptions, summary: Record<string, number | string | boolean | null>) {
  if (o.json) return console.log(JSON.stringify(summary));
  const parts = Object.entries(summary)
    .filter(([k, v]) => k !== 'errors_file' && k !== 'dry_run' && v !== null)
    .map(([k, v]) => `${k.replace(/_/g, ' ')} ${String(v)}`);
  console.log(`${summary.dry_run ? 'dry run: ' : ''}${parts.join(', ')}`);
  if (summary.errors_file) console.log(`rows not done, with the reason: ${String(summary.errors_file)}`);
}

/** `roster people import|delete`: CSV files of people, streamed, through the same writer and rules as the APIs. */
export function peopleCommands(program: Command): void {
  const people = program.command('people').description("a workspace's people: export, import or delete by CSV");
  peopleExportCommand(people);

  people
    .command('import')
    .description('identify each row: id, email, cio_id columns name the person, other columns are attributes')
    .argument('<file>', 'a CSV file with a header row')
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option('--errors <file>', 'where failed rows go (default: FILE.errors.csv next to the input)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (file: string, o: FileOptions) =>
      guarded(() =>
        withWorkspace(o.workspace, async (s) => {
          const mode = s.ws.settings.identifiers;
          const counts = { rows: 0, created: 0, updated: 0, failed: 0 };
          const errors = new FailedRows(o.errors ?? errorsPathFor(file));
          let stopped: CsvChunk['stopped'];
          const fail = (line: number, cells: string[], code: string, message: string) => {
            counts.failed++;
            errors.add(line, code, message, cells);
          };
          for await (const chunk of readCsvChunks(file, chunkSize, requireIdentifierColumn)) {
            const { header } = chunk;
            const values = (r: InputRow) => header.map((h) => r.cells[h] ?? '');
            for (const b of chunk.bad) {
              counts.rows++;
              fail(b.line, b.raw, 'invalid_csv', b.message);
            }
            const ready: { row: InputRow; cmd: WriteCommand }[] = [];
            for (const row of chunk.rows) {
              counts.rows++;
              try {
                const { ref, payload } = identifyFromRow(row.cells, mode);
                ready.push({ row, cmd: { kind: 'identify', ref, payload } });
              } catch (err) {
                if (!(err instanceof RosterError)) throw err;
                fail(row.line, values(row), err.code, err.message);
              }
            }
            const outcomes = await submitAll(
              s.writer,
              s.ctx(),
              ready.map((r) => r.cmd),
            );
            for (const [i, outcome] of outcomes.entries()) {
              const failure = outcomeFailure(outcome);
              if (failure) fail(ready[i]!.row.line, values(ready[i]!.row), failure.code, failure.message);
              else if (outcome.status === 'ok' && outcome.created) counts.created++;
              else counts.updated++;
            }
            await errors.flush(header);
            progress(counts);
            stopped = chunk.stopped ?? stopped;
          }
          if (process.stderr.isTTY) process.stderr.write('\n');
          printSummary(o, { ...counts, errors_file: await errors.close() });
          reportStop(stopped);
        }),
      ),
    );

  people
    .command('delete')
    .description('delete the people named by an id, email or cio_id column (first filled of cio_id, id, email)')
    .argument('<file>', 'a CSV file with a header row')
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option('--dry-run', 'only say who would be deleted')
    .option('--errors <file>', 'where failed rows go (default: FILE.errors.csv next to the input)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (file: string, o: FileOptions & { dryRun?: boolean }) =>
      guarded(() =>
        withWorkspace(o.workspace, async (s) => {
          const mode = s.ws.settings.identifiers;
          const dryRun = o.dryRun === true;
          const counts = { rows: 0, [dryRun ? 'would_delete' : 'deleted']: 0, not_found: 0, failed: 0 };
          const deletedKey = dryRun ? 'would_delete' : 'deleted';
          const errors = new FailedRows(o.errors ?? errorsPathFor(file));
          let stopped: CsvChunk['stopped'];
          const report = (line: number, cells: string[], code: string, message: string) =>
            errors.add(line, code, message, cells);
          for await (const chunk of readCsvChunks(file, chunkSize, requireIdentifierColumn)) {
            const { header } = chunk;
            const values = (r: InputRow) => header.map((h) => r.cells[h] ?? '');
            for (const b of chunk.bad) {
              counts.rows++;
              counts.failed++;
              report(b.line, b.raw, 'invalid_csv', b.message);
            }
            const ready: { row: InputRow; ref: Reference }[] = [];
            for (const row of chunk.rows) {
              counts.rows++;
              try {
                ready.push({ row, ref: referenceFromRow(row.cells, mode) });
              } catch (err) {
                if (!(err instanceof RosterError)) throw err;
                counts.failed++;
                report(row.line, values(row), err.code, err.message);
              }
            }
            const results = dryRun
              ? await Promise.all(
                  ready.map(async ({ ref }) =>
                    (await peopleStore.findByRef(s.store.reader, s.ws.pk, ref))
                      ? { status: 'deleted' as const }
                      : { status: 'not_found' as const, code: 'person_not_found', message: 'No person matches.' },
                  ),
                )
              : await deletePeople(
                  s.writer,
                  s.ctx(),
                  ready.map((r) => r.ref),
                );
            for (const [i, r] of results.entries()) {
              if (r.status === 'deleted') {
                counts[deletedKey]!++;
                continue;
              }
              counts[r.status]++;
              report(ready[i]!.row.line, values(ready[i]!.row), r.code ?? 'internal', r.message ?? '');
            }
            await errors.flush(header);
            progress(counts);
            stopped = chunk.stopped ?? stopped;
          }
          if (process.stderr.isTTY) process.stderr.write('\n');
          printSummary(o, { dry_run: dryRun, ...counts, errors_file: await errors.close() });
          reportStop(stopped);
        }),
      ),
    );
}
