import BetterSqlite3 from 'better-sqlite3';
import type { Command } from 'commander';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.js';

/** Pages per backup step: all of them, so the copy is one read of one snapshot, however busy the server is. */
const allPages = 0x7fffffff;

/**
 * Copies the SQLite store to `out` with SQLite's online backup while a server may be writing to it, then checks
 * the copy with `PRAGMA integrity_check`. Returns the copy's size in bytes.
 */
export async function backupSqlite(file: string, out: string, opts: { verify?: boolean } = {}): Promise<number> {
  const source = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  // Written beside the target and renamed into place, so a failed backup never leaves a partial file at `out`.
  const partial = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  try {
    source.pragma('busy_timeout = 5000');
    await source.backup(partial, { progress: () => allPages });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    source.close();
  }
  if (opts.verify !== false) {
    const copy = new BetterSqlite3(partial, { readonly: true });
    try {
      const result = copy.pragma('integrity_check', { simple: true });
      if (result !== 'ok') {
        rmSync(partial, { force: true });
        throw new Error(`the copy failed integrity_check: ${String(result)}`);
      }
    } finally {
      copy.close();
    }
  }
  renameSync(partial, out);
  return statSync(out).size;
}

/** `roster backup --out FILE`: an online, consistent copy of the SQLite store (PostgreSQL: use pg_dump). */
export function backupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite store to FILE while the server runs (PostgreSQL: use pg_dump)')
    .requiredOption('--out <file>', 'where to write the copy (must not exist unless --force)')
    .option('--force', 'replace FILE if it exists', false)
    .option('--no-verify', 'skip PRAGMA integrity_check on the copy')
    .action(async (o: { out: string; force: boolean; verify: boolean }) => {
      const config = loadConfig();
      if (config.databaseUrl) {
        console.error(
          'roster backup copies the embedded SQLite store; this Roster runs on PostgreSQL (DATABASE_URL).\n' +
            'Back it up with PostgreSQL\'s own tools, e.g.:\n  pg_dump --format=custom --file=roster.dump "$DATABASE_URL"\n' +
            'and restore with pg_restore (docs/operations.md, Backup and restore).',
        );
        process.exit(2);
      }
      const file = join(config.dataDir, 'roster.sqlite');
      if (!existsSync(file)) {
        console.error(`No Roster store at ${file} (ROSTER_DATA_DIR).`);
        process.exit(2);
      }
      const out = resolve(o.out);
      if (existsSync(out) && !o.force) {
        console.error(`${out} exists; pass --force to replace it.`);
        process.exit(2);
      }
      if (!existsSync(dirname(out))) {
        console.error(`The directory ${dirname(out)} does not exist.`);
        process.exit(2);
      }
      const started = performance.now();
      const bytes = await backupSqlite(file, out, { verify: o.verify });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`Backed up ${file} to ${out} (${(bytes / 1e6).toFixed(1)} MB, ${seconds} s)`);
      console.log(o.verify ? 'integrity_check: ok' : 'integrity_check: skipped');
      console.log(
        `Keep ${join(config.dataDir, 'secret.key')} (or ROSTER_SECRET_KEY) with it: webhook secrets are sealed with it.`,
      );
    });
}
