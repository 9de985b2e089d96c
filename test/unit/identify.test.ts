/**
 * identity.md, "Identify: which person, and what changes": the decision table, row by row, in both workspace modes,
 * with `allow_email_update_by_id` off and on, and again with `_update: true`.
 *
 * Each case describes the world a call meets (the people already stored), the reference and the body identifiers,
 * and the decision expected: which person, which identifiers are set there, and which changes rule C refuses.
 */
import { describe, expect, it } from 'vitest';
import { normalizeEmail, type Reference } from '../../src/domain/identifiers.js';
import {
  resolveIdentify,
  type Conflict,
  type IdentifyDecision,
  type IdentifyLookups,
  type PersonIdentity,
} from '../../src/domain/identify.js';
import type { IdentifierMode, WorkspaceSettings } from '../../src/domain/workspace.js';
import { named } from './support.js';

// ---------------------------------------------------------------------------------------------------------------
// The world a call meets
// ---------------------------------------------------------------------------------------------------------------

/** A stored person: pk, cio_id `c<pk>`, and the identifiers they hold (email as first given). */
interface Someone {
  pk: number;
  cio: string;
  id: string | null;
  email: string | null;
}
const someone = (pk: number, ids: { id?: string; email?: string }): Someone => ({
  pk,
  cio: `c${pk}`,
  id: ids.id ?? null,
  email: ids.email ?? null,
});

/** P: a customer with id and email. Q: another customer. L: a lead (email, no id). */
const P = someone(1, { id: 'u1', email: 'Jane@Example.com' });
const Q = someone(2, { id: 'u2', email: 'sam@example.com' });
const L = someone(3, { email: 'lead@example.com' });
const PwithoutEmail = someone(1, { id: 'u1' });
const QwithoutEmail = someone(2, { id: 'u2' });

const byCio = (cio: string): Reference => ({ kind: 'cio_id', value: cio });
const byId = (id: string): Reference => ({ kind: 'id', value: id });
const byEmail = (email: string): Reference => ({ kind: 'email', value: email, key: normalizeEmail(email) });

interface Body {
  id?: string;
  email?: string;
}

/** How the store presents a person to the rules: in id_only workspaces email is no identifier (no key). */
const identityIn = (mode: IdentifierMode, p: Someone): PersonIdentity => ({
  pk: p.pk,
  id: p.id,
  emailKey: mode === 'email_or_id' && p.email !== null ? normalizeEmail(p.email) : null,
});

/** The people found by the reference, the body email and the body id, as the caller looks them up. */
function lookupsFor(mode: IdentifierMode, people: Someone[], ref: Reference, body: Body): IdentifyLookups {
  const emailIsIdentifier = mode === 'email_or_id';
  const find = (match: (p: Someone) => boolean): PersonIdentity | null => {
    const p = people.find(match);
    return p ? identityIn(mode, p) : null;
  };
  const holdsEmail = (key: string) => (p: Someone) => p.email !== null && normalizeEmail(p.email) === key;
  const byRef =
    ref.kind === 'cio_id'
      ? find((p) => p.cio === ref.value)
      : ref.kind === 'id'
        ? find((p) => p.id === ref.value)
        : emailIsIdentifier
          ? find(holdsEmail(ref.key))
          : null;
  return {
    byRef,
    byEmail: emailIsIdentifier && body.email !== undefined ? find(holdsEmail(normalizeEmail(body.email))) : null,
    byId: body.id !== undefined ? find((p) => p.id === body.id) : null,
  };
}

const settingsFor = (mode: IdentifierMode, allowEmailUpdateById: boolean): WorkspaceSettings => ({
  identifiers: mode,
  allowEmailUpdateById,
  anonymousRetentionDays: 30,
});

// ---------------------------------------------------------------------------------------------------------------
// Expected decisions
// ---------------------------------------------------------------------------------------------------------------

const inUse = (field: Conflict['field'], value: string): Conflict => ({ field, value, reason: 'identifier_in_use' });
const needsCioId = (field: Conflict['field'], value: string): Conflict => ({
  field,
  value,
  reason: 'identifier_change_requires_cio_id',
});

interface Changes {
  setId?: string;
  setEmail?: string;
  conflicts?: Conflict[];
}
const update = (pk: number, row: number, c: Changes = {}): IdentifyDecision => ({
  action: 'update',
  pk,
  row,
  ...c,
  conflicts: c.conflicts ?? [],
});
const create = (row: number, c: Changes = {}): IdentifyDecision => ({
  action: 'create',
  row,
  ...c,
  conflicts: c.conflicts ?? [],
});
const notFound = (row: number): IdentifyDecision => ({ action: 'not_found', row });

// ---------------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------------

const emailOrId = ['email_or_id'] as const;
const idOnly = ['id_only'] as const;
const bothModes = ['email_or_id', 'id_only'] as const;

interface Row {
  row: number;
  name: string;
  modes: readonly IdentifierMode[];
  /** Only for the rows that read the setting; otherwise the case runs with it off and on, expecting the same. */
  allowEmailUpdateById?: boolean;
  people: Someone[];
  ref: Reference;
  body: Body;
  expected: IdentifyDecision;
}

const rows: Row[] = [
  // 1 | cio_id | nobody | any | 404 person_not_found
  {
    row: 1,
    name: 'unknown cio_id, empty body → person_not_found',
    modes: bothModes,
    people: [P],
    ref: byCio('c404'),
    body: {},
    expected: notFound(1),
  },
  {
    row: 1,
    name: 'unknown cio_id with a free id and email in the body → person_not_found, nothing created',
    modes: bothModes,
    people: [P],
    ref: byCio('c404'),
    body: { id: 'u9', email: 'new@example.com' },
    expected: notFound(1),
  },

  // 2 | cio_id | P | id/email | P's identifiers change to B's, each unless another person holds that value (rule C)
  {
    row: 2,
    name: 'cio_id finds P; a free id and a free email both replace P’s, email kept as given',
    modes: bothModes,
    people: [P, Q],
    ref: byCio('c1'),
    body: { id: 'u9', email: 'New@Example.com' },
    expected: update(1, 2, { setId: 'u9', setEmail: 'New@Example.com' }),
  },
  {
    row: 2,
    name: 'cio_id finds P without identifiers; P gains the body id and email',
    modes: bothModes,
    people: [someone(4, {}), Q],
    ref: byCio('c4'),
    body: { id: 'u4', email: 'four@example.com' },
    expected: update(4, 2, { setId: 'u4', setEmail: 'four@example.com' }),
  },
  {
    row: 2,
    name: 'body id held by Q → rule C identifier_in_use on id; the free email still changes',
    modes: bothModes,
    people: [P, Q],
    ref: byCio('c1'),
    body: { id: 'u2', email: 'new@example.com' },
    expected: update(1, 2, { setEmail: 'new@example.com', conflicts: [inUse('id', 'u2')] }),
  },
  {
    row: 2,
    name: 'body email held by Q (other case) → rule C identifier_in_use on email; the free id still changes',
    modes: emailOrId,
    people: [P, Q],
    ref: byCio('c1'),
    body: { id: 'u9', email: 'SAM@example.com' },
    expected: update(1, 2, { setId: 'u9', conflicts: [inUse('email', 'SAM@example.com')] }),
  },
  {
    row: 2,
    name: 'id_only: email is an attribute, set even when Q has the same address',
    modes: idOnly,
    people: [P, Q],
    ref: byCio('c1'),
    body: { id: 'u9', email: 'sam@example.com' },
    expected: update(1, 2, { setId: 'u9', setEmail: 'sam@example.com' }),
  },
  {
    row: 2,
    name: 'body repeats P’s own id and email (other case) → update P, no identifier changes',
    modes: emailOrId,
    people: [P, Q],
    ref: byCio('c1'),
    body: { id: 'u1', email: 'jane@EXAMPLE.com' },
    expected: update(1, 2),
  },

  // 3 | id | P | no email, or P's own email | update P
  {
    row: 3,
    name: 'id finds P, no body email → update P',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: {},
    expected: update(1, 3),
  },
  {
    row: 3,
    name: 'id finds P, body email is P’s own in another case → update P, stored email untouched',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: { email: ' JANE@example.COM ' },
    expected: update(1, 3),
  },
  {
    row: 3,
    name: 'id finds P, body id equal to the reference → update P, no change to id',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: { id: 'u1' },
    expected: update(1, 3),
  },

  // 4 | id | P | email unset on P, free | update P, set P.email
  {
    row: 4,
    name: 'id finds P without email, body email free → update P and set P.email as given',
    modes: emailOrId,
    people: [PwithoutEmail, Q],
    ref: byId('u1'),
    body: { email: 'Jane@Example.com' },
    expected: update(1, 4, { setEmail: 'Jane@Example.com' }),
  },

  // 5 | id | P | email ≠ P.email, free | set only if allow_email_update_by_id; else identifier_change_requires_cio_id
  {
    row: 5,
    name: 'id finds P, a new free email → rule C identifier_change_requires_cio_id on email',
    modes: emailOrId,
    allowEmailUpdateById: false,
    people: [P, Q],
    ref: byId('u1'),
    body: { email: 'Jane.New@Example.com' },
    expected: update(1, 5, { conflicts: [needsCioId('email', 'Jane.New@Example.com')] }),
  },
  {
    row: 5,
    name: 'id finds P, a new free email → P.email changes',
    modes: emailOrId,
    allowEmailUpdateById: true,
    people: [P, Q],
    ref: byId('u1'),
    body: { email: 'Jane.New@Example.com' },
    expected: update(1, 5, { setEmail: 'Jane.New@Example.com' }),
  },

  // 6 | id | P | email held by Q ≠ P | rule C identifier_in_use
  {
    row: 6,
    name: 'id finds P, body email held by Q → rule C identifier_in_use on email, value as sent',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: { email: 'Sam@Example.com' },
    expected: update(1, 6, { conflicts: [inUse('email', 'Sam@Example.com')] }),
  },
  {
    row: 6,
    name: 'id finds P without email, body email held by Q → identifier_in_use (not row 4)',
    modes: emailOrId,
    people: [PwithoutEmail, Q],
    ref: byId('u1'),
    body: { email: 'sam@example.com' },
    expected: update(1, 6, { conflicts: [inUse('email', 'sam@example.com')] }),
  },

  // 7 | id | nobody | email held by lead L with no id | lead → customer: L gets id R
  {
    row: 7,
    name: 'lead → customer: id finds nobody, body email is lead L’s → L gets id R',
    modes: emailOrId,
    people: [L, Q],
    ref: byId('u7'),
    body: { email: 'LEAD@example.com' },
    expected: update(3, 7, { setId: 'u7' }),
  },

  // 8 | id | nobody | email held by L that has another id | create {id R, no email}; rule C on email
  {
    row: 8,
    name: 'id finds nobody, body email held by Q who has another id → create {id R} without email; identifier_in_use on email',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u8'),
    body: { email: 'sam@example.com' },
    expected: create(8, { setId: 'u8', conflicts: [inUse('email', 'sam@example.com')] }),
  },

  // 9 | id | nobody | no email, or a free email | create {id R, email}
  {
    row: 9,
    name: 'id finds nobody, no body email → create {id R}',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u9'),
    body: {},
    expected: create(9, { setId: 'u9' }),
  },
  {
    row: 9,
    name: 'id finds nobody, free body email → create {id R, email as given}',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u9'),
    body: { email: 'New@Example.com' },
    expected: create(9, { setId: 'u9', setEmail: 'New@Example.com' }),
  },

  // 10 | email | P | no id, or P's own id | update P
  {
    row: 10,
    name: 'email finds P (any case), no body id → update P',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('JANE@example.com'),
    body: {},
    expected: update(1, 10),
  },
  {
    row: 10,
    name: 'email finds P, body id is P’s own → update P',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('jane@example.com'),
    body: { id: 'u1' },
    expected: update(1, 10),
  },
  {
    row: 10,
    name: 'email finds P, body email repeats the reference in another case → update P',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('jane@example.com'),
    body: { email: 'Jane@EXAMPLE.com' },
    expected: update(1, 10),
  },
  {
    row: 10,
    name: 'email finds P, body email differs from the reference → identifier_change_requires_cio_id on email',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('jane@example.com'),
    body: { email: 'other@example.com' },
    expected: update(1, 10, { conflicts: [needsCioId('email', 'other@example.com')] }),
  },

  // 11 | email | P (no id) | id free | set P.id
  {
    row: 11,
    name: 'lead → customer: email finds lead L, body id free → L gets the id',
    modes: emailOrId,
    people: [L, Q],
    ref: byEmail('lead@example.com'),
    body: { id: 'u11' },
    expected: update(3, 11, { setId: 'u11' }),
  },

  // 12 | email | P (no id) | id held by Q | rule C identifier_in_use
  {
    row: 12,
    name: 'email finds lead L, body id held by Q → rule C identifier_in_use on id',
    modes: emailOrId,
    people: [L, Q],
    ref: byEmail('lead@example.com'),
    body: { id: 'u2' },
    expected: update(3, 12, { conflicts: [inUse('id', 'u2')] }),
  },

  // 13 | email | P (has id) | different id | rule C identifier_change_requires_cio_id
  {
    row: 13,
    name: 'email finds P who has an id, body id free and different → identifier_change_requires_cio_id on id',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('jane@example.com'),
    body: { id: 'u13' },
    expected: update(1, 13, { conflicts: [needsCioId('id', 'u13')] }),
  },
  {
    row: 13,
    name: 'email finds P who has an id, body id held by Q → still identifier_change_requires_cio_id',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('jane@example.com'),
    body: { id: 'u2' },
    expected: update(1, 13, { conflicts: [needsCioId('id', 'u2')] }),
  },

  // 14 | email | nobody | id held by Q | update Q; Q gets email R if Q has none (or if allowed), else rule C
  {
    row: 14,
    name: 'email finds nobody, body id held by Q without email → update Q, Q gets email R as given',
    modes: emailOrId,
    people: [QwithoutEmail, P],
    ref: byEmail('Sam@Example.com'),
    body: { id: 'u2' },
    expected: update(2, 14, { setEmail: 'Sam@Example.com' }),
  },
  {
    row: 14,
    name: 'email finds nobody, body id held by Q with another email → update Q; identifier_change_requires_cio_id on email R',
    modes: emailOrId,
    allowEmailUpdateById: false,
    people: [Q, P],
    ref: byEmail('samuel@example.com'),
    body: { id: 'u2' },
    expected: update(2, 14, { conflicts: [needsCioId('email', 'samuel@example.com')] }),
  },
  {
    row: 14,
    name: 'email finds nobody, body id held by Q with another email → update Q, Q.email becomes R',
    modes: emailOrId,
    allowEmailUpdateById: true,
    people: [Q, P],
    ref: byEmail('samuel@example.com'),
    body: { id: 'u2' },
    expected: update(2, 14, { setEmail: 'samuel@example.com' }),
  },

  // 15 | email | nobody | no id, or a free id | create {email R, id}
  {
    row: 15,
    name: 'email finds nobody, no body id → create a lead {email R as given}',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('New@Example.com'),
    body: {},
    expected: create(15, { setEmail: 'New@Example.com' }),
  },
  {
    row: 15,
    name: 'email finds nobody, free body id → create {email R, id}',
    modes: emailOrId,
    people: [P, Q],
    ref: byEmail('new@example.com'),
    body: { id: 'u15' },
    expected: create(15, { setEmail: 'new@example.com', setId: 'u15' }),
  },

  // 16 | id (id_only) | P / nobody | email is an attribute | update P / create {id R}; B.id ≠ R → rule C
  {
    row: 16,
    name: 'id_only: id finds P, no body email → update P',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u1'),
    body: {},
    expected: update(1, 16),
  },
  {
    row: 16,
    name: 'id_only: id finds P; body email (also Q’s) is stored as an attribute, no conflict',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u1'),
    body: { email: 'sam@example.com' },
    expected: update(1, 16, { setEmail: 'sam@example.com' }),
  },
  {
    row: 16,
    name: 'id_only: id finds nobody; create {id R} with the body email (also P’s) as an attribute',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u16'),
    body: { email: 'Jane@Example.com' },
    expected: create(16, { setId: 'u16', setEmail: 'Jane@Example.com' }),
  },
  {
    row: 16,
    name: 'id_only: id finds nobody, no body email → create {id R}',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u16'),
    body: {},
    expected: create(16, { setId: 'u16' }),
  },
  {
    row: 16,
    name: 'id_only: an email-shaped id reference ("pass email as the userId") finds P by id',
    modes: idOnly,
    people: [someone(5, { id: 'jane@example.com' }), P],
    ref: byId('jane@example.com'),
    body: {},
    expected: update(5, 16),
  },
  {
    row: 16,
    name: 'id_only: id finds P, body id ≠ R → update P; identifier_change_requires_cio_id on id',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u1'),
    body: { id: 'u99', email: 'x@example.com' },
    expected: update(1, 16, { setEmail: 'x@example.com', conflicts: [needsCioId('id', 'u99')] }),
  },
  {
    row: 16,
    name: 'id_only: id finds nobody, body id ≠ R → create {id R}; identifier_change_requires_cio_id on id',
    modes: idOnly,
    people: [P, Q],
    ref: byId('u16'),
    body: { id: 'u99' },
    expected: create(16, { setId: 'u16', conflicts: [needsCioId('id', 'u99')] }),
  },

  // 17 | id | P / nobody | B.id ≠ R | update P / create {id R}; B.id not applied: identifier_change_requires_cio_id
  // Row 17 overlays the email rows (3–9): the decision's `row` names the email row that chose the person.
  {
    row: 17,
    name: 'id finds P, body id ≠ R → update P (as row 3), body id not applied',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: { id: 'u99' },
    expected: update(1, 3, { conflicts: [needsCioId('id', 'u99')] }),
  },
  {
    row: 17,
    name: 'id finds P, body id held by Q → still identifier_change_requires_cio_id (as row 3)',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u1'),
    body: { id: 'u2' },
    expected: update(1, 3, { conflicts: [needsCioId('id', 'u2')] }),
  },
  {
    row: 17,
    name: 'id finds nobody, body id ≠ R → create {id R} (as row 9), body id not applied',
    modes: emailOrId,
    people: [P, Q],
    ref: byId('u17'),
    body: { id: 'u99' },
    expected: create(9, { setId: 'u17', conflicts: [needsCioId('id', 'u99')] }),
  },
  {
    row: 17,
    name: 'id finds P without email, body id ≠ R and a free email → the email is still set (as row 4)',
    modes: emailOrId,
    people: [PwithoutEmail, Q],
    ref: byId('u1'),
    body: { id: 'u99', email: 'jane@example.com' },
    expected: update(1, 4, { setEmail: 'jane@example.com', conflicts: [needsCioId('id', 'u99')] }),
  },
  {
    row: 17,
    name: 'id finds nobody, body email is lead L’s, body id ≠ R → L still gets id R (as row 7)',
    modes: emailOrId,
    people: [L, Q],
    ref: byId('u17'),
    body: { id: 'u99', email: 'lead@example.com' },
    expected: update(3, 7, { setId: 'u17', conflicts: [needsCioId('id', 'u99')] }),
  },
];

interface Case extends Row {
  mode: IdentifierMode;
  allow: boolean;
  title: string;
}

/** Each row in each of its modes, and with the setting off and on unless the row is about the setting. */
const cases: Case[] = rows.flatMap((r) =>
  r.modes.flatMap((mode) =>
    (r.allowEmailUpdateById === undefined ? [false, true] : [r.allowEmailUpdateById]).map((allow) => ({
      ...r,
      mode,
      allow,
      title: `row ${r.row} [${mode}, allow_email_update_by_id ${allow ? 'on' : 'off'}]: ${r.name}`,
    })),
  ),
);

const decide = (c: Case, updateOnly: boolean): IdentifyDecision =>
  resolveIdentify(
    settingsFor(c.mode, c.allow),
    { ref: c.ref, bodyId: c.body.id, bodyEmail: c.body.email, updateOnly },
    lookupsFor(c.mode, c.people, c.ref, c.body),
  );

describe('resolveIdentify: the decision table of identity.md', () => {
  it('covers every row 1–17', () => {
    expect([...new Set(rows.map((r) => r.row))].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
  });

  it.each(named(cases, (c) => c.title))('%s', (_title, c) => {
    expect(decide(c, false)).toEqual(c.expected);
  });
});

describe('_update: true — rules that create answer 404 person_not_found instead, row 7 excepted', () => {
  const withUpdateOnly = cases.map((c) => ({
    ...c,
    expectedWhenUpdateOnly: c.expected.action === 'create' ? notFound(c.expected.row) : c.expected,
    title: `${c.title} — with _update: ${c.expected.action === 'create' ? 'person_not_found, nothing created' : 'same decision'}`,
  }));

  it.each(named(withUpdateOnly, (c) => c.title))('%s', (_title, c) => {
    expect(decide(c, true)).toEqual(c.expectedWhenUpdateOnly);
  });

  it('row 7 (lead → customer) still updates the lead under _update', () => {
    const c = cases.find((x) => x.row === 7)!;
    expect(decide(c, true)).toEqual(update(3, 7, { setId: 'u7' }));
  });
});

describe('where the workspace mode matters: the same call in email_or_id and id_only', () => {
  const contrasts: {
    name: string;
    people: Someone[];
    ref: Reference;
    body: Body;
    email_or_id: IdentifyDecision;
    id_only: IdentifyDecision;
  }[] = [
    {
      name: 'body email held by another person (row 6 / row 16)',
      people: [P, Q],
      ref: byId('u1'),
      body: { email: 'sam@example.com' },
      email_or_id: update(1, 6, { conflicts: [inUse('email', 'sam@example.com')] }),
      id_only: update(1, 16, { setEmail: 'sam@example.com' }),
    },
    {
      name: 'new email for a person found by id (row 5 / row 16)',
      people: [P, Q],
      ref: byId('u1'),
      body: { email: 'jane.new@example.com' },
      email_or_id: update(1, 5, { conflicts: [needsCioId('email', 'jane.new@example.com')] }),
      id_only: update(1, 16, { setEmail: 'jane.new@example.com' }),
    },
    {
      name: 'unknown id with a lead’s email (row 7 / row 16: emails never find people)',
      people: [L],
      ref: byId('u7'),
      body: { email: 'lead@example.com' },
      email_or_id: update(3, 7, { setId: 'u7' }),
      id_only: create(16, { setId: 'u7', setEmail: 'lead@example.com' }),
    },
    {
      name: 'unknown id with a customer’s email (row 8 / row 16)',
      people: [Q],
      ref: byId('u8'),
      body: { email: 'sam@example.com' },
      email_or_id: create(8, { setId: 'u8', conflicts: [inUse('email', 'sam@example.com')] }),
      id_only: create(16, { setId: 'u8', setEmail: 'sam@example.com' }),
    },
  ];

  it.each(
    named(
      contrasts.flatMap((c) => bothModes.map((mode) => ({ ...c, mode }))),
      (c) => `${c.mode}: ${c.name}`,
    ),
  )('%s', (_title, c) => {
    const d = resolveIdentify(
      settingsFor(c.mode, false),
      { ref: c.ref, bodyId: c.body.id, bodyEmail: c.body.email, updateOnly: false },
      lookupsFor(c.mode, c.people, c.ref, c.body),
    );
    expect(d).toEqual(c[c.mode]);
  });
});

describe('rule C: a conflict never loses the rest of the call', () => {
  it('cio_id: both identifiers held by others → both refused, each with field, value and reason', () => {
    const mode = 'email_or_id';
    const ref = byCio('c1');
    const body = { id: 'u2', email: 'Lead@Example.com' };
    const d = resolveIdentify(
      settingsFor(mode, true),
      { ref, bodyId: body.id, bodyEmail: body.email, updateOnly: false },
      lookupsFor(mode, [P, Q, L], ref, body),
    );
    expect(d).toEqual(update(1, 2, { conflicts: [inUse('id', 'u2'), inUse('email', 'Lead@Example.com')] }));
  });

  it('email reference: a different body email and a different body id are both refused, P still updated', () => {
    const mode = 'email_or_id';
    const ref = byEmail('jane@example.com');
    const body = { id: 'u13', email: 'other@example.com' };
    const d = resolveIdentify(
      settingsFor(mode, false),
      { ref, bodyId: body.id, bodyEmail: body.email, updateOnly: false },
      lookupsFor(mode, [P, Q], ref, body),
    );
    expect(d).toEqual(
      update(1, 13, { conflicts: [needsCioId('email', 'other@example.com'), needsCioId('id', 'u13')] }),
    );
  });
});
