import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentifierMode } from '../../src/domain/workspace.js';
import { createRoster, type Roster } from '../../src/roster.js';
import { workspacesStore, type WorkspaceCredentials } from '../../src/store/workspaces.js';

/** A real Roster on a real SQLite file in a temp dir, listening on 127.0.0.1 at a free port. */
export interface TestServer {
  roster: Roster;
  base: string;
  dataDir: string;
  workspace(opts?: { identifiers?: IdentifierMode; allowEmailUpdateById?: boolean }): Promise<TestWorkspace>;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-test-'));
  const roster = await createRoster({ dataDir });
  const base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    roster,
    base,
    dataDir,
    async workspace(opts = {}) {
      const creds = await workspacesStore.create(roster.store.writer, roster.masterKey, {
        name: 'test',
        identifiers: opts.identifiers ?? 'email_or_id',
        allowEmailUpdateById: opts.allowEmailUpdateById ?? false,
      });
      return new TestWorkspace(base, creds);
    },
    async close() {
      await roster.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

/** Talks to one workspace over real HTTP with its real credentials. */
export class TestWorkspace {
  constructor(
    readonly base: string,
    readonly creds: WorkspaceCredentials,
  ) {}

  get trackAuth(): string {
    return `Basic ${Buffer.from(`${this.creds.site_id}:${this.creds.track_api_key}`).toString('base64')}`;
  }

  async request(method: string, path: string, body?: unknown, auth: string | null = this.trackAuth): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  identify(ref: string, body: unknown = {}) {
    return this.request('PUT', `/api/v1/customers/${encodeURIComponent(ref)}`, body);
  }

  track(ref: string, body: unknown) {
    return this.request('POST', `/api/v1/customers/${encodeURIComponent(ref)}/events`, body);
  }

  app(method: string, path: string, body?: unknown) {
    return this.request(method, path, body, `Bearer ${this.creds.app_api_key}`);
  }

  /** The App API customer object, or null when 404. */
  async person(ref: string, idType = 'id') {
    const r = await this.app('GET', `/v1/customers/${encodeURIComponent(ref)}/attributes?id_type=${idType}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`attributes: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.customer;
  }

  async activities(ref: string, query = '', idType = 'id') {
    const r = await this.app('GET', `/v1/customers/${encodeURIComponent(ref)}/activities?id_type=${idType}${query}`);
    if (r.status !== 200) throw new Error(`activities: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async byEmail(email: string) {
    const r = await this.app('GET', `/v1/customers?email=${encodeURIComponent(email)}`);
    return r.body.results as { email: string | null; id: string | null; cio_id: string }[];
  }
}
