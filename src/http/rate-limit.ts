import { RosterError } from '../domain/errors.js';

/**
 * Requests per second per workspace, counted in one-second windows in this process. A request over the limit is
 * refused with 429 and `Retry-After`; 0 disables the limit.
 */
export class RateLimiter {
  private windows = new Map<number, { second: number; count: number }>();
  constructor(private readonly perSecond: number) {}

  /** Throws rate_limited (with the seconds to wait in `retryAfter`) when the workspace is over its limit. */
  take(workspacePk: number, now = Date.now()): void {
    if (this.perSecond <= 0) return;
    const second = Math.floor(now / 1000);
    const w = this.windows.get(workspacePk);
    if (!w || w.second !== second) {
      this.windows.set(workspacePk, { second, count: 1 });
      return;
    }
    if (++w.count > this.perSecond) throw new RosterError('rate_limited', 'Over the rate limit; retry after a second.');
  }
}
