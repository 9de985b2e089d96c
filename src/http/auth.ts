import type { FastifyReply, FastifyRequest } from 'fastify';
import { RosterError } from '../domain/errors.js';
import type { Db } from '../store/types.js';
import { workspacesStore, type WorkspaceRecord } from '../store/workspaces.js';

declare module 'fastify' {
  interface FastifyRequest {
    workspace: WorkspaceRecord;
  }
}

/**
 * Remembers successful authentications for a few seconds so the hot path does not query keys on every request.
 * A rotation or settings change made by another process is therefore seen within `ttlMs`.
 */
export class AuthCache {
  private entries = new Map<string, { ws: WorkspaceRecord; until: number }>();
  constructor(private readonly ttlMs = 2000) {}

  async get(key: string, load: () => Promise<WorkspaceRecord | null>): Promise<WorkspaceRecord | null> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.ws;
    const ws = await load();
    if (ws) {
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(key, { ws, until: now + this.ttlMs });
    } else this.entries.delete(key);
    return ws;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Decodes `Basic base64(user:password)`. */
export function parseBasic(header: string | undefined): { user: string; password: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decoded, password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** preHandler for the Track API: Basic site_id:api_key. */
export function trackAuth(db: Db, cache: AuthCache) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const creds = parseBasic(header);
    if (!creds || !header) throw new RosterError('unauthorized');
    const ws = await cache.get(header, () => workspacesStore.authenticateTrack(db, creds.user, creds.password));
    if (!ws) throw new RosterError('unauthorized');
    request.workspace = ws;
  };
}

/** preHandler for the App API: `Authorization: Bearer <app key>`. */
export function appAuth(db: Db, cache: AuthCache) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = header ? /^bearer\s+(\S+)$/i.exec(header) : null;
    if (!match || !header) throw new RosterError('unauthorized');
    const ws = await cache.get(header, () => workspacesStore.authenticateKey(db, 'app', match[1]!));
    if (!ws) throw new RosterError('unauthorized');
    request.workspace = ws;
  };
}
