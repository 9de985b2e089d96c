import { RosterError } from '../domain/errors.js';

/** A 429 `rate_limited` that says how long to wait (sent as `Retry-After`, whole seconds). */
export class RateLimitedError extends RosterError {
  constructor(
    readonly retryAfter: number,
    message = 'Over the rate limit; retry after a second.',
  ) {
    super('rate_limited', message);
  }
}

// Past this many tracked keys, windows that are over are dropped, so a flood of distinct keys cannot grow the map.
const maxTracked = 10_000;

/**
 * Requests per second per key (a workspace pk, a credential), counted in one-second windows in this process. A
 * request over the limit is refused with 429 and `Retry-After: 1`; 0 disables the limit.
 */
export class RateLimiter<K = number> {
  private windows = new Map<K, { second: number; count: number }>();
  constructor(readonly perSecond: number) {}

  /** Throws rate_limited when `key` is over its limit (`limit`, default the limiter's) in the current second. */
  take(key: K, now = Date.now(), limit = this.perSecond): void {
    if (limit <= 0) return;
    const second = Math.floor(now / 1000);
    const w = this.windows.get(key);
    if (w === undefined) {
      if (this.windows.size >= maxTracked) prune(this.windows, (v) => v.second !== second);
      this.windows.set(key, { second, count: 1 });
      return;
    }
    if (w.second !== second) {
      w.second = second;
      w.count = 1;
      return;
    }
    if (++w.count > limit) throw new RateLimitedError(1);
  }
}

function prune<K, V>(map: Map<K, V>, stale: (v: V) => boolean): void {
  for (const [k, v] of map) if (stale(v)) map.delete(k);
  // Everything is live: forget the lot rather than grow without bound.
  if (map.size >= maxTracked) map.clear();
}

/**
 * Failed authentications per client address in one-minute windows. Once an address has failed `perMinute` times,
 * its requests are refused with 429 before their credentials are even looked at, until its window ends.
 */
export class AuthFailureLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    readonly perMinute: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Throws rate_limited (Retry-After: the seconds left in the window) when `address` has failed too often. */
  check(address: string, now = Date.now()): void {
    if (this.perMinute <= 0) return;
    const w = this.windows.get(address);
    if (w === undefined || w.count < this.perMinute) return;
    const left = w.start + this.windowMs - now;
    if (left <= 0) {
      this.windows.delete(address);
      return;
    }
    throw new RateLimitedError(Math.ceil(left / 1000), 'Too many failed authentications; retry later.');
  }

  /** Counts one failed authentication from `address`. */
  fail(address: string, now = Date.now()): void {
    if (this.perMinute <= 0) return;
    const w = this.windows.get(address);
    if (w === undefined || w.start + this.windowMs <= now) {
      if (w === undefined && this.windows.size >= maxTracked)
        prune(this.windows, (v) => v.start + this.windowMs <= now);
      this.windows.set(address, { start: now, count: 1 });
    } else w.count++;
  }
}
