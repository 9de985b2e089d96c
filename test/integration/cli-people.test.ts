import { parse } from 'csv-parse/sync';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoster, type Roster } from '../../src/roster.js';
import { workspacesStore } from '../../src/store/workspaces.js';
import { TestWorkspace, type Reply } from '../helpers/roster-server.js';
import { tempRosterHome, type RosterHome } from '../helpers/roster-process.js';

/**
 * `roster people import|delete`, `roster dedupe` and `roster suppressions` as real processes on the real store,
 * while a Roster server runs on the same store (as in production): the seed's duplicate procedure from the shell.
 */

const run = promisify(execFile);
const bin = new URL('../../bin/roster.js', import.meta.url).pathname;

let home: RosterHome;
let roster: Roster;
let base: string;

beforeAll(async () => {
  home = await tempRosterHome('roster-cli-people-');
  roster = await createRoster({ dataDir: home.dataDir, databaseUrl: home.env.DATABASE_URL });
  base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await roster?.close();
  await home?.remove();
});

/** Runs the CLI; never throws: the exit code, stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, ROSTER_DATA_DIR: home.dataDir, ...home.env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function workspace(identifiers: 'id_only' | 'email_or_id') {
  const creds = await workspacesStore.create(roster.store.writer, roster.masterKey, {
    name: 'cli',
    identifiers,
    allowEmailUpdateById: false,
  });
  return new TestWorkspace(base, creds);
}

let fileNo = 0;
function csvFile(text: string): string {
  const path = join(home.dataDir, `input-${++fileNo}.csv`);
  writeFileSync(path, text);
  return path;
}

const readCsv = (path: string) => parse(readFileSync(path), { columns: true }) as Record<string, string>[];

function expectOk(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** Imports people with duplicate emails (id_only: email is an attribute) and some events. */
async function seedDuplicates(ws: TestWorkspace) {
  const file = csvFile(
    [
      'id,email,created_at,plan,unsubscribed',
      'u2,ANN@example.com,2000,pro,',
      'u1,ann@example.com,1000,,',
      'u3, ann@example.com ,3000,,true',
      'u4,bob@example.com,500,free,',
      'c1,cat@example.com,4000,,',
      'c2,cat@example.com,4500,,',
    ].join('\n') + '\n',
  );
  const r = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, file, '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ rows: 6, created: 6, updated: 0, failed: 0, errors_file: null });
  expect(existsSync(file.replace(/\.csv$/, '.errors.csv'))).toBe(false);
  for (const [ref, name] of [
    ['u2', 'signed_up'],
    ['u2', 'viewed'],
    ['u3', 'purchased'],
  ] as const)
    expectOk(await ws.track(ref, { name }));
}

describe('roster people import', () => {
  it('identifies each row, reports failed rows with code and message in an error CSV, and sums up', async () => {
    const ws = await workspace('email_or_id');
    expectOk(await ws.identify('taken', { email: 'taken@example.com' }));
    const file = csvFile(
      [
        'id,email,plan,note,unsubscribed',
        'a1,a1@example.com,pro,"hello, world",',
        'a2,,free,"multi\nline",false',
        ',lead@example.com,,,',
        'a3,not-an-email,,,',
        'cio_x,,,,',
        'a4,,,,maybe',
        'a5,taken@example.com,gold,,',
        ',,,,',
        'a6,too,many,fields,here,really',
        'taken,,silver,,',
        'a7,"x"y,,,',
      ].join('\n'),
    );
    const r = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, file, '--json']);
    // Broken quoting on the last line stops the file there: exit code 1, the rows before it done.
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/^Stopped at line 13: .*not read/)]);
    const summary = JSON.parse(r.stdout);
    expect(summary).toEqual({
      rows: 11,
      created: 3,
      updated: 1,
      failed: 7,
      errors_file: file.replace(/\.csv$/, '.errors.csv'),
    });
    const failed = readCsv(summary.errors_file);
    expect(failed.map((f) => [f.id, f.error_code])).toEqual([
      ['a3', 'invalid_email'],
      ['cio_x', 'reserved_prefix'],
      ['a4', 'invalid_unsubscribed'],
      ['a5', 'identifier_in_use'],
      ['', 'no_identifier'],
      ['a6', 'invalid_csv'],
      ['', 'invalid_csv'], // broken quoting: no cells can be trusted
    ]);
    expect(failed.every((f) => f.error_message !== '' && Number(f.line) > 1)).toBe(true);
    // The errors file stays rectangular: extra fields are kept, joined into the last column.
    expect(failed.find((f) => f.id === 'a6')).toMatchObject({ email: 'too', unsubscribed: 'here,really' });
    // Rule C: the rest of the row was applied, the email was not.
    expect((await ws.person('a5')).attributes).toMatchObject({ plan: 'gold' });
    expect((await ws.person('a5')).identifiers.email).toBeNull();
    expect((await ws.person('a1')).attributes).toMatchObject({ plan: 'pro', note: 'hello, world' });
    expect((await ws.person('a2')).attributes).toMatchObject({ note: 'multi\nline', unsubscribed: 'false' });
    expect((await ws.person('lead@example.com', 'email')).identifiers.id).toBeNull();
    expect((await ws.person('taken')).attributes.plan).toBe('silver');

    // --errors names the file; importing again updates.
    const errorsAt = join(home.dataDir, 'my-errors.csv');
    const again = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, file, '--errors', errorsAt]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('rows 11, created 0, updated 4, failed 7');
    expect(readCsv(errorsAt)).toHaveLength(7);
  });

  it('in an id_only workspace an email-only row names no one; refuses bad files with exit code 2', async () => {
    const ws = await workspace('id_only');
    const file = csvFile('email,plan\na@example.com,x\n');
    const r = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, file, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 1, failed: 1 });
    expect(readCsv(file.replace(/\.csv$/, '.errors.csv'))[0]!.error_code).toBe('no_identifier');

    const noIdColumn = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, csvFile('name\nx\n')]);
    expect([noIdColumn.code, noIdColumn.stderr]).toEqual([2, expect.stringContaining('id, email or cio_id')]);
    const twice = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, csvFile('id,id\nx,y\n')]);
    expect(twice.code).toBe(2);
    const empty = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, csvFile('')]);
    expect(empty.code).toBe(2);
    const missing = await cli(['people', 'import', '--workspace', ws.creds.workspace_id, '/nonexistent/x.csv']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('no such file')]);
    const unknown = await cli(['people', 'import', '--workspace', 'ws_nope', file]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('No workspace ws_nope')]);
  });
});

describe('the seed procedure from the shell (id_only workspace)', () => {
  it('dedupe --dry-run plans keeping the oldest; people delete by CSV; nothing left', async () => {
    const ws = await workspace('id_only');
    await seedDuplicates(ws);
    const id = ws.creds.workspace_id;
    const planFile = join(home.dataDir, 'plan.csv');
    const dry = await cli([
      'dedupe',
      '--workspace',
      id,
      '--by',
      'email',
      '--action',
      'delete',
      '--dry-run',
      '--out',
      planFile,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run: groups 2, kept 2, would delete 3');
    const plan = readCsv(planFile);
    expect(plan.map((p) => [p.value, p.role, p.id, p.status])).toEqual([
      ['ann@example.com', 'keep', 'u1', 'kept'],
      ['ann@example.com', 'drop', 'u2', 'planned'],
      ['ann@example.com', 'drop', 'u3', 'planned'],
      ['cat@example.com', 'keep', 'c1', 'kept'],
      ['cat@example.com', 'drop', 'c2', 'planned'],
    ]);
    expect(plan.find((p) => p.id === 'u2')).toMatchObject({
      events: '2',
      created_at: '2000',
      kept_cio_id: plan[0]!.cio_id,
    });
    expect(await ws.person('u2')).not.toBeNull();

    // Without --out, a dry run's plan goes to stdout as CSV and the summary to stderr.
    const toStdout = await cli(['dedupe', '--workspace', id, '--action', 'merge', '--dry-run']);
    expect(parse(toStdout.stdout, { columns: true })).toHaveLength(5);
    expect(toStdout.stderr).toContain('would merge 3');

    // The seed's step 3: a CSV of the people to delete, by id. A dry run first.
    const deleteFile = csvFile(
      'id\n' +
        plan
          .filter((p) => p.role === 'drop')
          .map((p) => p.id)
          .join('\n') +
        '\nnobody\n',
    );
    const dryDelete = await cli(['people', 'delete', '--workspace', id, deleteFile, '--dry-run', '--json']);
    expect(JSON.parse(dryDelete.stdout)).toMatchObject({ dry_run: true, rows: 4, would_delete: 3, not_found: 1 });
    expect(await ws.person('u2')).not.toBeNull();
    const del = await cli(['people', 'delete', '--workspace', id, deleteFile]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain('rows 4, deleted 3, not found 1, failed 0');
    expect(readCsv(deleteFile.replace(/\.csv$/, '.errors.csv')).map((r) => [r.id, r.error_code])).toEqual([
      ['nobody', 'person_not_found'],
    ]);
    for (const gone of ['u2', 'u3', 'c2']) expect(await ws.person(gone)).toBeNull();
    for (const kept of ['u1', 'u4', 'c1']) expect(await ws.person(kept)).not.toBeNull();

    const after = await cli([
      'dedupe',
      '--workspace',
      id,
      '--action',
      'delete',
      '--dry-run',
      '--json',
      '--out',
      planFile,
    ]);
    expect(JSON.parse(after.stdout)).toMatchObject({ groups: 0 });
    expect(readFileSync(planFile, 'utf8').trim()).toBe(
      'value,role,cio_id,id,email,created_at,events,kept_cio_id,reason,status,error_code,error_message',
    );
    const listed = await ws.app('GET', '/v1/duplicates?by=email');
    expect(listed.body.groups).toEqual([]);
  });

  it('dedupe --action merge: events move to the oldest, an unsubscribe is kept, the others are gone', async () => {
    const ws = await workspace('id_only');
    await seedDuplicates(ws);
    const out = join(home.dataDir, 'merged.csv');
    const r = await cli([
      'dedupe',
      '--workspace',
      ws.creds.workspace_id,
      '--by',
      'email',
      '--keep',
      'oldest',
      '--action',
      'merge',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('groups 2, kept 2, merged 3, not found 0, failed 0');
    expect(readCsv(out).map((p) => p.status)).toEqual(['kept', 'merged', 'merged', 'kept', 'merged']);
    for (const gone of ['u2', 'u3', 'c2']) expect(await ws.person(gone)).toBeNull();
    const u1 = await ws.person('u1');
    expect(u1.unsubscribed).toBe(true);
    expect(u1.attributes.plan).toBe('pro');
    expect((await ws.activitiesOfType('u1', 'event')).map((e) => e.name).sort()).toEqual([
      'purchased',
      'signed_up',
      'viewed',
    ]);
    expect((await ws.app('GET', '/v1/duplicates?by=email')).body.groups).toEqual([]);
  });

  it('refuses a bad --by, --keep or --action as usage errors', async () => {
    const ws = await workspace('id_only');
    for (const args of [
      ['--by', 'id', '--action', 'merge'],
      ['--keep', 'best', '--action', 'merge'],
      ['--action', 'destroy'],
      [],
    ]) {
      const r = await cli(['dedupe', '--workspace', ws.creds.workspace_id, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).not.toBe('');
    }
  });
});

describe('roster suppressions', () => {
  it('lists the suppressed ids and emails, and remove frees one (exit 1 when it was not suppressed)', async () => {
    const ws = await workspace('email_or_id');
    expectOk(await ws.identify('s1', { email: 's1@example.com' }));
    expectOk(await ws.suppress('s1'));
    expectOk(await ws.suppress('s2'));
    const id = ws.creds.workspace_id;
    const list = await cli(['suppressions', 'list', '--workspace', id, '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; value: string })
        .map((s) => [s.type, s.value]),
    ).toEqual([
      ['email', 's1@example.com'],
      ['id', 's1'],
      ['id', 's2'],
    ]);
    const text = await cli(['suppressions', 'list', '--workspace', id]);
    expect(text.stdout.split('\n')[0]).toMatch(/^email\ts1@example\.com\t\d{4}-/);

    const removed = await cli(['suppressions', 'remove', '--workspace', id, '--email', 'S1@example.com']);
    expect(removed.code, removed.stderr).toBe(0);
    const left = await cli(['suppressions', 'list', '--workspace', id, '--json']);
    expect(left.stdout.trim().split('\n')).toHaveLength(1);
    const again = await cli(['suppressions', 'remove', '--workspace', id, '--email', 's1@example.com']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('suppression_not_found')]);
    const both = await cli(['suppressions', 'remove', '--workspace', id, '--email', 'a@b.co', '--id', 'x']);
    expect(both.code).toBe(2);
    // Another workspace's list is its own.
    const other = await workspace('email_or_id');
    const otherList = await cli(['suppressions', 'list', '--workspace', other.creds.workspace_id]);
    expect(otherList.stdout).toBe('');
  });
});
