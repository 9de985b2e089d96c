import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'csv-stringify';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import {
  parseDedupeAction,
  parseDedupeKey,
  parseKeepRule,
  planDedupe,
  type DedupeAction,
  type DedupeKey,
  type KeepRule,
} from '../domain/dedupe.js';
import { RosterError } from '../domain/errors.js';
import { planCsvColumns, planCsvRecord, resolveDuplicates, type ResolvedRow } from '../ingest/bulk.js';
import { findDuplicateGroups } from '../queries/duplicates.js';
import { withWorkspace } from './session.js';

/** A domain parser as a commander argument parser: a RosterError becomes commander's usage error. */
const arg =
  <T>(parse: (raw: string) => T) =>
  (raw: string): T => {
    try {
      return parse(raw);
    } catch (err) {
      if (err instanceof RosterError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };

interface DedupeOptions {
  workspace: string;
  by: DedupeKey;
  keep: KeepRule;
  action: DedupeAction;
  dryRun?: boolean;
  out?: string;
  json?: boolean;
}

/** Writes the plan as CSV to a file, or to stdout. */
async function writePlan(rows: ResolvedRow[], out: string | undefined) {
  const csv = stringify({ header: true, columns: [...planCsvColumns] });
  const target = out ? createWriteStream(out) : process.stdout;
  csv.pipe(target, { end: out !== undefined });
  for (const r of rows) {
    if (!csv.write(planCsvRecord(r))) await new Promise((resolve) => csv.once('drain', resolve));
  }
  csv.end();
  await finished(out ? target : csv);
}

/** `roster dedupe`: find people sharing a value, keep one per group, merge or delete the others. */
export function dedupeCommand(program: Command): void {
  program
    .command('dedupe')
    .description(
      'resolve duplicate people: keep one per group (oldest created_at by default), merge or delete the rest',
    )
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .addOption(
      new Option('--by <name>', 'email, or an attribute name (e.g. secondary_email, phone)')
        .argParser(arg(parseDedupeKey))
        .default({ kind: 'email' } as DedupeKey, 'email'),
    )
    .option('--keep <rule>', 'oldest, newest or most_events', arg(parseKeepRule), 'oldest' as KeepRule)
    .requiredOption('--action <action>', 'merge (history moves to the one kept) or delete', arg(parseDedupeAction))
    .option('--dry-run', 'change nothing; write the plan')
    .option('--out <file>', 'write the plan (keep/drop rows, reasons, results) as CSV here; stdout with --dry-run')
    .option('--json', 'print the summary as one JSON object')
    .action(async (o: DedupeOptions) =>
      withWorkspace(o.workspace, async (s) => {
        const groups = await findDuplicateGroups(s.store.reader, s.ws.pk, o.by);
        const plans = planDedupe(groups, o.keep);
        const dryRun = o.dryRun === true;
        const rows = await resolveDuplicates(s.writer, s.ctx(), plans, o.action, dryRun);
        const count = (status: ResolvedRow['status']) => rows.filter((r) => r.status === status).length;
        const summary = {
          dry_run: dryRun,
          groups: plans.length,
          kept: plans.length,
          [dryRun ? 'would_' + o.action : o.action === 'merge' ? 'merged' : 'deleted']: dryRun
            ? count('planned')
            : count(o.action === 'merge' ? 'merged' : 'deleted'),
          not_found: count('not_found'),
          failed: count('failed'),
        };
        const planToStdout = dryRun && o.out === undefined;
        if (o.out !== undefined || planToStdout) await writePlan(rows, o.out);
        const text = o.json
          ? JSON.stringify(summary)
          : `${dryRun ? 'dry run: ' : ''}${Object.entries(summary)
              .filter(([k]) => k !== 'dry_run')
              .map(([k, v]) => `${k.replace(/_/g, ' ')} ${String(v)}`)
              .join(', ')}`;
        // With the plan on stdout, the summary goes to stderr so the CSV stays clean.
        if (planToStdout) console.error(text);
        else console.log(text);
        if (count('failed') > 0) process.exitCode = 1;
      }),
    );
}
