import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { decryptSecret } from '../../store/secrets.js';
import type { Db } from '../../store/types.js';
import { workspacesStore, type WorkspaceRecord } from '../../store/workspaces.js';
import type { SurfaceAccess } from '../access.js';
import { parseBasic, refuse, type AuthCache } from '../auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received, for signature checks. */
    rawBody?: string;
  }
}

/** The write key of a Segment request: Basic `base64(writeKey:)`, or `writeKey` in the body. */
function writeKeyOf(request: FastifyRequest): string | undefined {
  const basic = parseBasic(request.headers.authorization);
  if (basic?.user) return basic.user;
  const body = request.body as Record<string, unknown> | undefined;
  const fromBody = body && !Array.isArray(body) && typeof body === 'object' ? body.writeKey : undefined;
  return typeof fromBody === 'string' && fromBody ? fromBody : undefined;
}

/**
 * preHandler (after parsing, since the key may be in the body): the Segment write key, then the workspace's and the
 * key's rate limits. (The failed-authentication limit is checked earlier, in onRequest, before the body is read.)
 */
export function writeKeyAuth(db: Db, cache: AuthCache, access?: SurfaceAccess) {
  return async (request: FastifyRequest) => {
    const key = writeKeyOf(request);
    if (!key) throw refuse(request, access);
    const cacheKey = `wk:${key}`;
    const ws = await cache.get(cacheKey, () => workspacesStore.authenticateKey(db, 'segment_write', key));
    if (!ws) throw refuse(request, access);
    request.workspace = ws;
    access?.admit(ws, cacheKey);
  };
}

const hmacHex = (secret: string, text: string) => createHmac('sha1', secret).update(text, 'utf8').digest('hex');

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Segment's Webhooks destinations: a write key in `Authorization`, or `X-Signature` = hex HMAC-SHA1 of the body
 * with the workspace's webhook secret (`?site_id=` names the workspace). Webhooks (Actions) signs a batch as
 * `JSON.stringify` of its first event only, so that form is accepted too.
 */
export function webhookAuth(db: Db, cache: AuthCache, masterKey: Buffer, access?: SurfaceAccess) {
  const keyAuth = writeKeyAuth(db, cache, access);
  return async (request: FastifyRequest) => {
    const signature = request.headers['x-signature'];
    if (typeof signature !== 'string') return keyAuth(request);
    const siteId = (request.query as Record<string, unknown>).site_id;
    if (typeof siteId !== 'string' || siteId === '') throw refuse(request, access, 'site_id is required.');
    const found = await workspacesStore.webhookSecretOf(db, siteId);
    if (!found) throw refuse(request, access);
    const secret = decryptSecret(masterKey, found.sealed);
    const raw = request.rawBody ?? '';
    const body = request.body;
    const signed = [raw, ...(Array.isArray(body) && body.length > 0 ? [JSON.stringify(body[0])] : [])];
    if (!signed.some((text) => sameHex(hmacHex(secret, text), signature.trim().toLowerCase())))
      throw refuse(request, access, 'The signature does not match.');
    request.workspace = found.ws satisfies WorkspaceRecord;
    access?.admit(found.ws, `sig:${siteId}`);
  };
}
