/**
 * identity.md, "Attributes": `created_at` is unix seconds or an ISO-8601 string (converted); the call time
 * (`_timestamp` / `timestamp`) orders attribute changes. Every ISO case here carries an explicit offset or is a bare
 * date, so the results do not depend on the machine's time zone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIsoDate, isoToUnixSeconds, parseCallTimestamp, parseCreatedAt } from '../../src/domain/timestamps.js';
import { named, refusalOf, show } from './support.js';

/** 2021-08-17T18:29:01Z, the seed's `account_created`. */
const S = 1_629_224_941;

describe('parseCallTimestamp: unix seconds, unix milliseconds or ISO-8601 → unix milliseconds', () => {
  it.each(
    named(
      [
        { name: 'unix seconds', raw: S, ms: S * 1000 },
        { name: 'unix seconds with a fraction', raw: S + 0.5, ms: S * 1000 + 500 },
        { name: 'unix seconds as a numeric string', raw: String(S), ms: S * 1000 },
        { name: 'unix milliseconds (above 1e11)', raw: S * 1000 + 123, ms: S * 1000 + 123 },
        { name: 'unix milliseconds as a numeric string', raw: String(S * 1000), ms: S * 1000 },
        {
          name: 'unix milliseconds from 1990 (any number above 1e11 is milliseconds)',
          raw: 631_152_000_000,
          ms: 631_152_000_000,
        },
        { name: 'unix seconds just under 1e11 (year 5138)', raw: 99_999_999_999, ms: 99_999_999_999_000 },
        { name: 'zero (the epoch)', raw: 0, ms: 0 },
        { name: 'ISO-8601 UTC', raw: '2021-08-17T18:29:01Z', ms: S * 1000 },
        { name: 'ISO-8601 with +02:00', raw: '2021-08-17T20:29:01+02:00', ms: S * 1000 },
        { name: 'ISO-8601 with -0500', raw: '2021-08-17T13:29:01-0500', ms: S * 1000 },
        { name: 'ISO-8601 with milliseconds (cut to the second)', raw: '2021-08-17T18:29:01.987Z', ms: S * 1000 },
        { name: 'ISO-8601 with nanoseconds', raw: '2021-08-17T18:29:01.123456789Z', ms: S * 1000 },
        { name: 'ISO-8601 date only (midnight UTC)', raw: '2021-08-17', ms: 1_629_158_400_000 },
        { name: 'ISO-8601 with a space for T', raw: '2021-08-17 18:29:01Z', ms: S * 1000 },
      ],
      (r) => `${r.name}: ${show(r.raw)} → ${r.ms}`,
    ),
  )('%s', (_title, { raw, ms }) => {
    expect(parseCallTimestamp(raw)).toBe(ms);
  });

  it.each([undefined, null])('%s → no timestamp (the caller uses the time received)', (raw) => {
    expect(parseCallTimestamp(raw)).toBeUndefined();
  });

  it.each(
    named(
      [
        { name: 'a word', raw: 'yesterday' },
        { name: 'empty string', raw: '' },
        { name: 'a day-first date', raw: '17/08/2021' },
        { name: 'month 13', raw: '2021-13-01' },
        { name: 'a phone number', raw: '555-1234' },
        { name: 'an id that starts like a year', raw: '2021-08-17-abc' },
        { name: 'a negative number', raw: -1 },
        { name: 'a negative numeric string', raw: '-1' },
        { name: 'NaN', raw: Number.NaN },
        { name: 'Infinity', raw: Number.POSITIVE_INFINITY },
        { name: 'a number past the last JavaScript date (would overflow int8)', raw: 1e308 },
        { name: 'a numeric string past the last JavaScript date', raw: '99999999999999999999' },
        { name: 'a boolean', raw: true },
        { name: 'an object', raw: { seconds: S } },
      ],
      (r) => `${r.name} ${show(r.raw)} → invalid_timestamp`,
    ),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseCallTimestamp(raw, '_timestamp'))).toMatchObject({
      code: 'invalid_timestamp',
      field: '_timestamp',
      status: 400,
    });
  });
});

describe('parseCreatedAt: created_at → unix seconds', () => {
  it.each(
    named(
      [
        { name: 'unix seconds', raw: S, s: S },
        { name: 'unix seconds as a string', raw: String(S), s: S },
        { name: 'unix milliseconds', raw: S * 1000 + 999, s: S },
        { name: 'ISO-8601 UTC', raw: '2021-08-17T18:29:01Z', s: S },
        { name: 'ISO-8601 with an offset', raw: '2021-08-17T20:29:01+02:00', s: S },
        { name: "ISO-8601 in Date#toISOString's form", raw: '2021-08-17T18:29:01.000Z', s: S },
        { name: 'ISO-8601 date only', raw: '2021-08-17', s: 1_629_158_400 },
        { name: 'fractional seconds are cut', raw: S + 0.9, s: S },
      ],
      (r) => `${r.name}: ${show(r.raw)} → ${r.s}`,
    ),
  )('%s', (_title, { raw, s }) => {
    expect(parseCreatedAt(raw)).toBe(s);
  });

  it.each(
    named(
      [
        { name: 'a word', raw: 'tomorrow' },
        { name: 'null', raw: null },
        { name: 'undefined', raw: undefined },
        { name: 'a negative number', raw: -100 },
        { name: 'a boolean', raw: false },
        { name: "an impossible date in Date#toISOString's form", raw: '2021-02-30T00:00:00.000Z' },
      ],
      (r) => `${r.name} → invalid_timestamp`,
    ),
  )('%s', (_title, { raw }) => {
    expect(refusalOf(() => parseCreatedAt(raw)).code).toBe('invalid_timestamp');
  });
});

describe('isIsoDate and isoToUnixSeconds: strict ISO-8601 only, so ids and phone numbers are never dates', () => {
  it.each(
    named(
      [
        { value: '2021-08-17', iso: true },
        { value: '2021-08-17T18:29', iso: true },
        { value: '2021-08-17T18:29:01Z', iso: true },
        { value: '2021-08-17T18:29:01.5+01:00', iso: true },
        { value: '2021-08-17T18:29:01+0100', iso: true },
        { value: '20210817', iso: false },
        { value: '2021-8-17', iso: false },
        { value: '2021-08-17T', iso: false },
        { value: 'Tue, 17 Aug 2021 18:29:01 GMT', iso: false },
        { value: '1629224941', iso: false },
        { value: '555-123-4567', iso: false },
        { value: '2021-13-45', iso: false },
        { value: '2021-02-30', iso: false },
        { value: '2021-08-17T25:00', iso: false },
        { value: '2024-02-29', iso: true },
        // Date#toISOString's own form, read without the regex: the same rules.
        { value: '2021-08-17T18:29:01.000Z', iso: true },
        { value: '2024-02-29T00:00:00.000Z', iso: true },
        { value: '2000-02-29T12:00:00.000Z', iso: true },
        { value: '2023-02-29T00:00:00.000Z', iso: false },
        { value: '1900-02-29T00:00:00.000Z', iso: false },
        { value: '2021-04-31T00:00:00.000Z', iso: false },
        { value: '2021-00-10T00:00:00.000Z', iso: false },
        { value: '2021-08-00T00:00:00.000Z', iso: false },
        { value: '2021-08-17T24:00:00.000Z', iso: false },
        { value: '2021-08-17T18:60:00.000Z', iso: false },
        { value: '2021-08-17T18:29:60.000Z', iso: false },
        { value: '2021-08-1xT18:29:01.000Z', iso: false },
        { value: '2021-08-17T18:29:01.00aZ', iso: false },
        { value: '2021/08/17T18:29:01.000Z', iso: false },
        { value: '2021-08-17X18:29:01.000Z', iso: false },
        // Year 0 is a leap year (proleptic Gregorian, as toISOString writes it); Date.UTC alone would check 1900.
        { value: '0000-02-29', iso: true },
        { value: '0000-02-29T00:00:00.000Z', iso: true },
      ],
      (r) => `${show(r.value)} → ${r.iso ? 'ISO-8601' : 'not ISO-8601'}`,
    ),
  )('%s', (_title, { value, iso }) => {
    expect(isIsoDate(value)).toBe(iso);
  });

  it.each(
    named(
      [
        { value: '2021-08-17T18:29:01Z', s: S },
        { value: '2021-08-17T18:29:01.999Z', s: S },
        { value: '1970-01-01T00:00:00Z', s: 0 },
        { value: 'not a date', s: undefined },
        { value: '2021-08-17T18:29:01', s: S },
        { value: '2021-08-17T19:29:01+01:00', s: S },
        { value: '2021-08-17T13:29:01-0500', s: S },
        { value: '2024-08-14T20:36:48.6527521Z', s: 1723667808 },
        { value: '2021-08-17T18:29:01.999Z', s: S },
        { value: '2000-02-29T00:00:00.000Z', s: 951782400 },
        // Date.UTC reads years 0–99 as 1900–1999: these are the years written.
        { value: '0050-01-01T00:00:00.000Z', s: -60589296000 },
        { value: '0050-01-01T00:00:00Z', s: -60589296000 },
        { value: '0000-03-01', s: -62162035200 },
      ],
      (r) => `${show(r.value)} → ${String(r.s)}`,
    ),
  )('%s', (_title, { value, s }) => {
    expect(isoToUnixSeconds(value)).toBe(s);
  });

  it('reads every Date#toISOString of years 0–9999 as its own moment, to the second', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (d) => {
          expect(isoToUnixSeconds(d.toISOString())).toBe(Math.floor(d.getTime() / 1000));
        },
      ),
    );
  });

  it('reads the toISOString form as the regex does the same time with +00:00, valid or not', () => {
    const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        fc.tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3)),
        ([y, mo, d, h, mi, s, ms]) => {
          const canonical = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
          expect(isoToUnixSeconds(canonical)).toBe(isoToUnixSeconds(canonical.replace(/Z$/, '+00:00')));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
