import type { FastifyReply, FastifyRequest } from 'fastify';
import { RosterError } from '../domain/errors.js';
import type { Db } from '../store/types.js';
import { workspacesStore, type WorkspaceRecord } from '../store/workspaces.js';
import type { SurfaceAccess } from './access.js';

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

/** A failed authentication: counted against the client's address, then answered 401. */
export function refuse(request: FastifyRequest, access: SurfaceAccess | undefined, message?: string): RosterError {
  access?.failed(request);
  return new RosterError('unauthorized', message);
}

/** onRequest hook for the Track API: Basic site_id:api_key, then the workspace's and the key's rate limits. */
export function trackAuth(db: Db, cache: AuthCache, access?: SurfaceAccess) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    access?.guard(request);
    const header = request.headers.authorization;
    const creds = parseBasic(header);
    if (!creds || !header) throw refuse(request, access);
    const ws = await cache.get(header, () => workspacesStore.authenticateTrack(db, creds.user, creds.password));
    if (!ws) throw refuse(request, access);
    request.workspace = ws;
    access?.admit(ws, header);
  };
}

/** onRequest hook for the App API: `Authorization: Bearer <app key>`, then the rate limits. */
export function appAuth(db: Db, cache: AuthCache, access?: SurfaceAccess) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    access?.guard(request);
    const header = request.headers.authorization;
    const match = header ? /^bearer\s+(\S+)$/i.exec(header) : null;
    if (!match || !header) throw refuse(request, access);
    const ws = await cache.get(header, () => workspacesStore.authenticateKey(db, 'app', match[1]!));
    if (!ws) throw refuse(request, access);
    request.workspace = ws;
    access?.admit(ws, header);
  };
}
