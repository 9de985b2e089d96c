import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { WorkspaceRecord } from '../store/workspaces.js';
import { AuthFailureLimiter, RateLimiter } from './rate-limit.js';

/** The authenticated APIs, each limited on its own. */
export type LimitedSurface = 'track' | 'segment' | 'app';

/** Rate limits (docs/operations.md). Every number is per process; 0 means no limit. */
export interface RateLimitSettings {
  /** Requests per second per workspace on each API, unless the API has its own number below. */
  workspacePerSecond: number;
  /** Per-API overrides of `workspacePerSecond`. */
  surfaces: Partial<Record<LimitedSurface, number>>;
  /** Requests per second per credential (a Track API key, an App API key, a write key, a webhook signer). */
  keyPerSecond: number;
  /** Failed authentications per minute per client address before its requests are refused outright. */
  authFailuresPerMinute: number;
}

const nonNegative = (raw: string | undefined, fallback: number, name: string): number => {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number, 0 or more; got ${raw}`);
  return n;
};

/** Reads the rate limits from the environment. */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  const surfaces: Partial<Record<LimitedSurface, number>> = {};
  for (const [surface, name] of [
    ['track', 'ROSTER_TRACK_RATE_LIMIT'],
    ['segment', 'ROSTER_SEGMENT_RATE_LIMIT'],
    ['app', 'ROSTER_APP_RATE_LIMIT'],
  ] as const)
    if (env[name] !== undefined && env[name] !== '') surfaces[surface] = nonNegative(env[name], 0, name);
  return {
    workspacePerSecond: nonNegative(env.ROSTER_RATE_LIMIT, 0, 'ROSTER_RATE_LIMIT'),
    surfaces,
    keyPerSecond: nonNegative(env.ROSTER_KEY_RATE_LIMIT, 0, 'ROSTER_KEY_RATE_LIMIT'),
    authFailuresPerMinute: nonNegative(env.ROSTER_AUTH_FAILURE_LIMIT, 20, 'ROSTER_AUTH_FAILURE_LIMIT'),
  };
}

/**
 * ROSTER_TRUST_PROXY: `true`, a hop count, or addresses/CIDRs (comma-separated) of the proxies whose
 * X-Forwarded-For names the client, so the failed-authentication limit counts clients, not the proxy.
 */
export function trustProxyFromEnv(raw: string | undefined): FastifyServerOptions['trustProxy'] {
  if (raw === undefined || raw.trim() === '' || raw === 'false') return undefined;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    return (_address: string, hop: number) => hop < hops;
  }
  return raw.split(',').map((s) => s.trim());
}

/** No limits except the failed-authentication one. */
export const defaultRateLimits: RateLimitSettings = {
  workspacePerSecond: 0,
  surfaces: {},
  keyPerSecond: 0,
  authFailuresPerMinute: 20,
};

/** The limits of one API: per workspace and per credential, and the shared failed-authentication limit. */
export class SurfaceAccess {
  private readonly workspaces: RateLimiter<number>;
  private readonly keys: RateLimiter<string>;
  constructor(
    settings: RateLimitSettings,
    surface: LimitedSurface,
    private readonly failures: AuthFailureLimiter,
  ) {
    this.workspaces = new RateLimiter(settings.surfaces[surface] ?? settings.workspacePerSecond);
    this.keys = new RateLimiter(settings.keyPerSecond);
  }

  /** Before looking at credentials: refuses an address that failed authentication too often. */
  guard(request: FastifyRequest): void {
    this.failures.check(request.ip);
  }

  /** Counts a failed authentication against the request's address. */
  failed(request: FastifyRequest): void {
    this.failures.fail(request.ip);
  }

  /**
   * After authenticating: one request against the workspace's and the credential's limits. A workspace's own
   * settings (`roster workspace set --rate-limit/--key-rate-limit`) win over the environment's.
   */
  admit(ws: WorkspaceRecord, credential: string): void {
    const now = Date.now();
    this.workspaces.take(ws.pk, now, ws.rateLimits.perSecond ?? this.workspaces.perSecond);
    this.keys.take(credential, now, ws.rateLimits.perKeyPerSecond ?? this.keys.perSecond);
  }
}

/** The limits of every API of one server. */
export function accessControl(settings: RateLimitSettings): Record<LimitedSurface, SurfaceAccess> {
  const failures = new AuthFailureLimiter(settings.authFailuresPerMinute);
  return {
    track: new SurfaceAccess(settings, 'track', failures),
    segment: new SurfaceAccess(settings, 'segment', failures),
    app: new SurfaceAccess(settings, 'app', failures),
  };
}
