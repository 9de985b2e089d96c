import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../config.js';
import { RosterError } from '../domain/errors.js';
import { parseFilter, type FilterNode } from '../domain/filters.js';
import { filterContext } from '../queries/people-filter.js';
import { peopleExportCsv } from '../queries/people-export.js';
import { openStore } from '../store/database.js';
import { workspacesStore } from '../store/workspaces.js';

interface ExportOptions {
  workspace: string;
  filter?: string;
  attributes?: string;
  out?: string;
}

/** Everyone: the filter used when --filter is left out. */
const everyone: FilterNode = { kind: 'and', children: [] };

/** `roster people export`: a workspace's people as CSV, to a file or stdout, streamed a page at a time. */
export function peopleExportCommand(people: Command): void {
  people
    .command('export')
    .description('write people as CSV (cio_id,id,email,created_at,updated_at,unsubscribed, then attributes)')
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option(
      '--filter <json>',
      'an App API audience filter, e.g. \'{"attribute":{"field":"plan","operator":"eq","value":"pro"}}\'',
    )
    .option('--attributes <names>', 'comma-separated attribute columns (default: every attribute, sorted)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (o: ExportOptions) => {
      let filter = everyone;
      try {
        if (o.filter !== undefined) filter = parseFilter(JSON.parse(o.filter) as unknown);
      } catch (err) {
        console.error(
          `--filter: ${err instanceof RosterError || err instanceof SyntaxError ? err.message : String(err)}`,
        );
        process.exitCode = 2;
        return;
      }
      const attributes = o.attributes === undefined ? null : o.attributes.split(',').filter((a) => a !== '');
      const store = await openStore(loadConfig());
      try {
        const ws = await workspacesStore.byPublicId(store.reader, o.workspace);
        if (!ws) {
          console.error(`No workspace ${o.workspace}. See: roster workspace list`);
          process.exitCode = 2;
          return;
        }
        try {
          await filterContext(store.reader, ws.pk, filter, true);
        } catch (err) {
          if (!(err instanceof RosterError)) throw err;
          console.error(`--filter: ${err.message}`);
          process.exitCode = 2;
          return;
        }
        const tty = process.stderr.isTTY === true;
        let rows = 0;
        let shown = 0;
        const progress = (final = false) => {
          const now = Date.now();
          if (!tty || (!final && now - shown < 200)) return;
          shown = now;
          process.stderr.write(`\rexported ${rows.toLocaleString('en-US')} people${final ? '\n' : ''}`);
        };
        const { csv } = await peopleExportCsv(store.reader, ws.pk, filter, attributes, {
          onRows: (n) => {
            rows += n;
            progress();
          },
        });
        const sink = o.out ? createWriteStream(o.out) : process.stdout;
        // stdout is not ended by pipeline, so a piped reader sees everything before the process exits.
        await pipeline(csv, sink, { end: o.out !== undefined });
        progress(true);
        if (o.out) console.error(`Exported ${rows} people to ${o.out}`);
      } finally {
        await store.close();
      }
    });
}
