/** rate-limit.ts and access.ts: one-second windows per key, one-minute windows of failed authentications. */
import { describe, expect, it } from 'vitest';
import { defaultRateLimits, rateLimitsFromEnv } from '../../src/http/access.js';
import { AuthFailureLimiter, RateLimitedError, RateLimiter } from '../../src/http/rate-limit.js';

const retryAfterOf = (fn: () => void): number | null => {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof RateLimitedError) {
      expect(err.code).toBe('rate_limited');
      expect(err.status).toBe(429);
      return err.retryAfter;
    }
    throw err;
  }
};

describe('RateLimiter (per second)', () => {
  it('lets N through in a second, refuses the N+1st with Retry-After 1, and starts afresh the next second', () => {
    const limiter = new RateLimiter<string>(3);
    const t = 10_000_000;
    for (let i = 0; i < 3; i++) expect(retryAfterOf(() => limiter.take('k', t + i))).toBeNull();
    expect(retryAfterOf(() => limiter.take('k', t + 999))).toBe(1);
    expect(retryAfterOf(() => limiter.take('k', t + 1000))).toBeNull();
  });

  it('counts each key on its own', () => {
    const limiter = new RateLimiter<number>(1);
    limiter.take(1, 5000);
    expect(retryAfterOf(() => limiter.take(1, 5000))).toBe(1);
    expect(retryAfterOf(() => limiter.take(2, 5000))).toBeNull();
  });

  it('0 means no limit', () => {
    const limiter = new RateLimiter<number>(0);
    for (let i = 0; i < 1000; i++) limiter.take(1, 5000);
  });

  it('a flood of distinct keys does not grow it without bound, and live windows survive pruning', () => {
    const limiter = new RateLimiter<string>(1);
    for (let i = 0; i < 10_000; i++) limiter.take(`old-${i}`, 1000);
    limiter.take('live', 2000);
    for (let i = 0; i < 10; i++) limiter.take(`new-${i}`, 2000);
    expect(retryAfterOf(() => limiter.take('live', 2000))).toBe(1);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBe(11);
  });
});

describe('AuthFailureLimiter (per minute per address)', () => {
  it('after N failures the address is refused for the rest of the window, Retry-After counting down', () => {
    const limiter = new AuthFailureLimiter(3);
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(retryAfterOf(() => limiter.check('1.2.3.4', t + i))).toBeNull();
      limiter.fail('1.2.3.4', t + i);
    }
    expect(retryAfterOf(() => limiter.check('1.2.3.4', t + 10))).toBe(60);
    expect(retryAfterOf(() => limiter.check('1.2.3.4', t + 30_500))).toBe(30);
    expect(retryAfterOf(() => limiter.check('5.6.7.8', t + 10))).toBeNull();
    expect(retryAfterOf(() => limiter.check('1.2.3.4', t + 60_000))).toBeNull();
  });

  it('failures spread over more than a minute do not add up', () => {
    const limiter = new AuthFailureLimiter(2);
    limiter.fail('a', 0);
    limiter.fail('a', 61_000);
    expect(retryAfterOf(() => limiter.check('a', 61_001))).toBeNull();
  });

  it('0 turns it off', () => {
    const limiter = new AuthFailureLimiter(0);
    for (let i = 0; i < 100; i++) limiter.fail('a', i);
    expect(retryAfterOf(() => limiter.check('a', 100))).toBeNull();
  });
});

describe('rateLimitsFromEnv', () => {
  it('defaults: no request limits, 20 failed authentications a minute', () => {
    expect(rateLimitsFromEnv({})).toEqual(defaultRateLimits);
  });

  it('reads every variable', () => {
    expect(
      rateLimitsFromEnv({
        ROSTER_RATE_LIMIT: '100',
        ROSTER_TRACK_RATE_LIMIT: '50',
        ROSTER_SEGMENT_RATE_LIMIT: '0',
        ROSTER_APP_RATE_LIMIT: '10',
        ROSTER_KEY_RATE_LIMIT: '30',
        ROSTER_AUTH_FAILURE_LIMIT: '5',
      }),
    ).toEqual({
      workspacePerSecond: 100,
      surfaces: { track: 50, segment: 0, app: 10 },
      keyPerSecond: 30,
      authFailuresPerMinute: 5,
    });
  });

  it('refuses a value that is not a number, 0 or more', () => {
    expect(() => rateLimitsFromEnv({ ROSTER_RATE_LIMIT: 'lots' })).toThrow(/ROSTER_RATE_LIMIT/);
    expect(() => rateLimitsFromEnv({ ROSTER_AUTH_FAILURE_LIMIT: '-1' })).toThrow(/ROSTER_AUTH_FAILURE_LIMIT/);
  });
});
