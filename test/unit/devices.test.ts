/**
 * Devices (Track v1 `{device:{id,…}}`, v2 `{device:{token,…}}`): token and platform required, last_used in unix
 * seconds, attributes a JSON object.
 */
import { describe, expect, it } from 'vitest';
import { parseDevicePayload, parseDeviceToken } from '../../src/domain/devices.js';
import { named, ofBytes, refusalOf } from './support.js';

describe('parseDevicePayload', () => {
  it.each(
    named(
      [
        { tokenKey: 'id' as const, surface: 'v1' },
        { tokenKey: 'token' as const, surface: 'v2' },
      ],
      (r) => `${r.surface}: the token is read from "${r.tokenKey}"`,
    ),
  )('%s', (_title, { tokenKey }) => {
    expect(
      parseDevicePayload(
        { [tokenKey]: 'tok-1', platform: 'ios', last_used: 1_629_224_941, attributes: { app_version: '1.2' } },
        tokenKey,
      ),
    ).toEqual({ token: 'tok-1', platform: 'ios', lastUsed: 1_629_224_941, attributes: { app_version: '1.2' } });
  });

  it('last_used given in milliseconds or ISO-8601 is stored in unix seconds', () => {
    expect(parseDevicePayload({ id: 't', platform: 'android', last_used: 1_629_224_941_500 }, 'id').lastUsed).toBe(
      1_629_224_941,
    );
    expect(parseDevicePayload({ id: 't', platform: 'android', last_used: '2021-08-17T18:29:01Z' }, 'id').lastUsed).toBe(
      1_629_224_941,
    );
  });

  it.each(
    named(
      [
        { row: 'no device object', device: null, code: 'invalid_device' },
        { row: 'an array', device: [], code: 'invalid_device' },
        { row: 'no token', device: { platform: 'ios' }, code: 'invalid_device' },
        { row: 'an empty token', device: { id: '', platform: 'ios' }, code: 'invalid_device' },
        { row: 'a token over 1000 bytes', device: { id: ofBytes(1001), platform: 'ios' }, code: 'invalid_device' },
        { row: 'no platform', device: { id: 't' }, code: 'invalid_device' },
        { row: 'a platform over 150 bytes', device: { id: 't', platform: ofBytes(151) }, code: 'invalid_device' },
        {
          row: 'attributes that are an array',
          device: { id: 't', platform: 'ios', attributes: [] },
          code: 'invalid_device',
        },
        {
          row: 'attributes over 10,000 bytes',
          device: { id: 't', platform: 'ios', attributes: { a: 'x'.repeat(10_000) } },
          code: 'invalid_device',
        },
        {
          row: 'an unreadable last_used',
          device: { id: 't', platform: 'ios', last_used: 'now' },
          code: 'invalid_timestamp',
        },
      ],
      (r) => `${r.row} → ${r.code}`,
    ),
  )('%s', (_title, { device, code }) => {
    expect(refusalOf(() => parseDevicePayload(device, 'id')).code).toBe(code);
  });
});

describe('parseDeviceToken', () => {
  it.each(
    named(
      [
        { raw: 'tok-1', ok: true },
        { raw: ofBytes(1000), ok: true },
        { raw: ofBytes(1001), ok: false },
        { raw: '', ok: false },
        { raw: 7, ok: false },
      ],
      (r) =>
        `${typeof r.raw === 'string' ? `${Buffer.byteLength(r.raw)}-byte string` : 'a number'} → ${r.ok ? 'accepted' : 'invalid_device'}`,
    ),
  )('%s', (_title, { raw, ok }) => {
    if (ok) expect(parseDeviceToken(raw)).toBe(raw);
    else expect(refusalOf(() => parseDeviceToken(raw)).code).toBe('invalid_device');
  });
});
