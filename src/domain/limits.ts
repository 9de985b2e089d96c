/** Customer.io's published Track API limits (reference/customerio-api.md §1.1), which Roster enforces. */
export const limits = {
  identifierBytes: 150,
  emailBytes: 254,
  attributeNameBytes: 150,
  attributeValueBytes: 1000,
  attributesPerCall: 300,
  attributesPerPerson: 300,
  /** Objects and relationships (§1.1): all of one object's or relationship's attributes, JSON-encoded. */
  objectAttributesTotalBytes: 100_000,
  /** Relationships named in one call (Roster: docs silent; Segment sends one). */
  relationshipsPerCall: 1000,
  eventNameBytes: 100,
  eventDataBytes: 100_000,
  eventIdBytes: 150,
  entityBodyBytes: 32 * 1024,
  batchBodyBytes: 500 * 1024,
  v1BodyBytes: 1024 * 1024,
  /** Nesting of arrays/objects in a request body (Roster: deeper JSON would overflow the stack when re-encoded). */
  jsonDepth: 100,
} as const;

/** UTF-8 length of a string. */
export const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Whether a request body's text is at most `max` bytes (false when there is no text to measure). Every part of such
 * a body is smaller, so a route need not encode its parts again to measure them (UTF-16 length first: it is cheap,
 * and a string's UTF-8 is never shorter).
 */
export const bodyAtMost = (raw: string | undefined, max: number): boolean =>
  raw !== undefined && raw.length <= max && byteLength(raw) <= max;
