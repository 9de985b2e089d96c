import { InvalidArgumentError, type Command } from 'commander';
import type { Kysely } from 'kysely';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { copyStore, CopyRefused, type TableCount, type TableProgress } from '../store/copy.js';
import { openPostgresStore, openSqliteFile, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrations/index.js';

interface CopyOptions {
  from?: string;
  to?: string;
  batchSize: number;
}

const batchArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number 1–10000');
  return n;
};

/** A refusal before anything is opened: a clear message and exit code 2. */
class UsageError extends Error {}

/** `sqlite:PATH` (a data dir, or the .sqlite file itself) → the SQLite file, which must exist. */
function sourceFile(from: string | undefined): string {
  if (!from) throw new UsageError('--from is required: --from sqlite:PATH (the data dir, or its roster.sqlite)');
  let path = from;
  if (path.startsWith('sqlite:')) path = path.slice('sqlite:'.length).replace(/^\/\/(?=\/|\.)/, '');
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw new UsageError(`--from must be sqlite:PATH (a SQLite data dir or file), not ${redact(from)}`);
  if (path === '') throw new UsageError('--from sqlite:PATH needs a path');
  const full = resolve(path);
  if (!existsSync(full)) throw new UsageError(`--from: ${full} does not exist`);
  const file = statSync(full).isDirectory() ? join(full, 'roster.sqlite') : full;
  if (!existsSync(file)) throw new UsageError(`--from: ${full} has no roster.sqlite; is it a Roster data dir?`);
  return file;
}

/** The target URL: postgres:// or postgresql:// only. */
function targetUrl(to: string | undefined): string {
  if (!to) throw new UsageError('--to is required (or DATABASE_URL): --to postgres://user:password@host:5432/db');
  if (!/^postgres(ql)?:\/\//i.test(to))
    throw new UsageError(`--to must be a postgres:// or postgresql:// URL, not ${redact(to)}`);
  return to;
}

/** A URL without its password, for messages. */
const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

const formatCount = (n: number) => n.toLocaleString('en-US');

/** Progress on stderr: a bar redrawn in place on a terminal, a line every few seconds and per table otherwise. */
function progressReporter(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 70));
  let started = 0;
  let lastLine = 0;
  return (p: TableProgress) => {
    const now = Date.now();
    if (p.copied === 0 && !p.done) {
      started = now;
      lastLine = now;
    }
    const seconds = Math.max((now - started) / 1000, 0.001);
    const rate = `${formatCount(Math.round(p.copied / seconds))} rows/s`;
    const counts = `${formatCount(p.copied)}/${formatCount(p.total)}`;
    if (p.done) {
      const line = `  ${p.table.padEnd(22)} ${formatCount(p.copied).padStart(12)} rows, ${formatCount(p.inserted)} new, ${seconds.toFixed(1)} s`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    } else if (tty) {
      if (p.copied > 0 && now - lastLine < 100) return;
      lastLine = now;
      const share = p.total === 0 ? 1 : Math.min(1, p.copied / p.total);
      const filled = Math.round(share * width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      const percent = `${Math.floor(share * 100)}%`.padStart(4);
      stream.write(`\r\x1b[2K  ${p.table.padEnd(22)} ${bar} ${percent}  ${counts}  ${rate}`);
    } else if (now - lastLine >= 5000) {
      lastLine = now;
      stream.write(`  ${p.table}: ${counts} rows, ${rate}\n`);
    }
  };
}

/** The counts side by side; true when every target count is at least the source's. */
function printCounts(counts: TableCount[]): boolean {
  console.log(`\n  ${'table'.padEnd(22)} ${'sqlite'.padStart(12)} ${'postgresql'.padStart(12)}`);
  let complete = true;
  for (const c of counts) {
    const ok = c.target >= c.source;
    complete &&= ok;
    const mark = ok ? 'ok' : `MISSING ${formatCount(c.source - c.target)}`;
    console.log(
      `  ${c.table.padEnd(22)} ${formatCount(c.source).padStart(12)} ${formatCount(c.target).padStart(12)}  ${mark}`,
    );
  }
  return complete;
}

/** The webhook secrets stay sealed with the source's master key: the PostgreSQL deployment needs that key. */
function printSecretReminder(sqliteFile: string): void {
  const keyFile = join(dirname(sqliteFile), 'secret.key');
  console.log("\nWebhook secrets were copied still sealed with the source's master key (nothing was decrypted).");
  if (process.env.ROSTER_SECRET_KEY)
    console.log('This copy ran with ROSTER_SECRET_KEY set: give every PostgreSQL process the same ROSTER_SECRET_KEY.');
  else if (existsSync(keyFile))
    console.log(
      `Set ROSTER_SECRET_KEY on every PostgreSQL process to the contents of ${keyFile} (64 hex digits: the key ` +
        'itself), or, if the source server ran with ROSTER_SECRET_KEY, to that same value.',
    );
  else
    console.log('The source has no secret.key: give every PostgreSQL process the ROSTER_SECRET_KEY the source used.');
  console.log(
    'With another key, Segment webhook signatures fail until `roster workspace rotate-keys` issues new ones.',
  );
}

/** `roster copy --from sqlite:PATH --to postgres://…`: moves a SQLite data dir into PostgreSQL. */
export function copyCommand(program: Command): void {
  program
    .command('copy')
    .description(
      'copy a SQLite data dir into PostgreSQL (re-runnable; stop the SQLite server first so nothing is written after the copy starts)',
    )
    .option('--from <sqlite:PATH>', 'the SQLite data dir, or its roster.sqlite file')
    .option('--to <postgres-url>', 'the PostgreSQL database (default: DATABASE_URL)')
    .option('--batch-size <rows>', 'rows per INSERT', batchArg, 1000)
    .action(async (o: CopyOptions) => {
      let file: string;
      let url: string;
      try {
        file = sourceFile(o.from);
        url = targetUrl(o.to ?? (process.env.DATABASE_URL || undefined));
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`roster copy: ${err.message}`);
        process.exitCode = 2;
        return;
      }

      let source: Store | undefined;
      let target: Store | undefined;
      try {
        source = await openSqliteFile(file);
        target = await openPostgresStore(url, { migrate: false });
        console.log(`Copying ${file}\n     to ${target.file}`);
        const ran = await migrateToLatest(target.writer as Kysely<unknown>);
        console.log(ran.length === 0 ? 'Target schema: up to date.' : `Target schema: ran ${ran.join(', ')}.`);
        const counts = await copyStore(source, target, {
          batchSize: o.batchSize,
          onProgress: progressReporter(process.stderr),
        });
        const complete = printCounts(counts);
        if (complete) console.log('\nEvery table is copied: each PostgreSQL count is at least the SQLite count.');
        else {
          console.error('\nroster copy: some tables have fewer rows in PostgreSQL than in SQLite; run the copy again.');
          process.exitCode = 1;
        }
        printSecretReminder(file);
      } catch (err) {
        if (process.stderr.isTTY) process.stderr.write('\n');
        console.error(`roster copy: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = err instanceof CopyRefused ? 2 : 1;
      } finally {
        await target?.close();
        await source?.close();
      }
    });
}
