import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';
import { parseCallTimestamp } from './timestamps.js';

/** A push device as the Track API describes it. */
export interface DevicePayload {
  token: string;
  platform: string;
  /** Unix seconds. */
  lastUsed?: number;
  attributes: Record<string, unknown>;
}

/** Validates a device token, used on its own by the delete paths. */
export function parseDeviceToken(raw: unknown, field = 'id'): string {
  if (typeof raw !== 'string' || raw.length === 0 || byteLength(raw) > 1000)
    throw fail('invalid_device', `device.${field}: required, a string of at most 1000 bytes.`, field);
  return raw;
}

/** Validates `{id|token, platform, last_used?, attributes?}` (v1 names the token `id`, v2 `token`). */
export function parseDevicePayload(raw: unknown, tokenKey: 'id' | 'token'): DevicePayload {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_device', 'device: required, a JSON object.', 'device');
  const d = raw as Record<string, unknown>;
  const token = parseDeviceToken(d[tokenKey], tokenKey);
  if (typeof d.platform !== 'string' || d.platform.length === 0 || byteLength(d.platform) > limits.identifierBytes)
    throw fail('invalid_device', 'device.platform: required, e.g. ios or android.', 'platform');
  const payload: DevicePayload = { token, platform: d.platform, attributes: {} };
  const lastUsed = parseCallTimestamp(d.last_used, 'last_used');
  if (lastUsed !== undefined) payload.lastUsed = Math.floor(lastUsed / 1000);
  if (d.attributes !== undefined && d.attributes !== null) {
    if (typeof d.attributes !== 'object' || Array.isArray(d.attributes))
      throw fail('invalid_device', 'device.attributes: must be a JSON object.', 'attributes');
    if (byteLength(JSON.stringify(d.attributes)) > limits.attributeValueBytes * 10)
      throw fail('invalid_device', 'device.attributes: too large.', 'attributes');
    payload.attributes = d.attributes as Record<string, unknown>;
  }
  return payload;
}
