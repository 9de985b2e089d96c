/**
 * A reference model of identity.md (shared/docs/identity.md, with Roster's choices from docs/identity.md), written
 * to be obviously right rather than fast: people are a plain array, every lookup a linear scan, every rule one `if`
 * in the table's words. It covers identify (rows 1–17, `_update`, rule C, `anonymous_id`), person and anonymous
 * events, merge, delete, suppress and unsuppress; not devices or objects. The property test runs the same calls against it and the
 * real server and compares the answers and the stored people.
 */

export type Mode = 'email_or_id' | 'id_only';

/** How a call names a person. `cio` names the n-th person the model holds (or nobody when n is past the end). */
export type RefSpec = { kind: 'id'; value: string } | { kind: 'email'; value: string } | { kind: 'cio'; n: number };

export type Op =
  | {
      type: 'identify';
      ref: RefSpec;
      id?: string;
      email?: string;
      attrs: Record<string, unknown>;
      update?: boolean;
      anonymousId?: string;
    }
  | { type: 'event'; ref: RefSpec }
  | { type: 'anon_event'; anonymousId: string }
  | { type: 'merge'; primary: RefSpec; secondary: RefSpec }
  | { type: 'delete' | 'suppress' | 'unsuppress'; ref: RefSpec };

export interface ModelPerson {
  /** Creation order: stands in for the cio_id, which only the server knows. */
  key: number;
  id: string | null;
  email: string | null;
  attrs: Record<string, unknown>;
  events: number;
  /** Anonymous ids linked to this person. */
  anonymousIds: string[];
}

/** The answer the rules call for: HTTP status, and the error code (the first rule C reason for a 409). */
export interface ModelAnswer {
  status: number;
  code?: string;
  /** Rule C: the fields whose change was refused, in order. */
  fields?: string[];
}

type Conflict = {
  field: 'id' | 'email' | 'anonymous_id';
  reason: 'identifier_in_use' | 'identifier_change_requires_cio_id';
};

const emailKey = (email: string) => email.trim().toLowerCase();

export class IdentityModel {
  people: ModelPerson[] = [];
  /** Suppressed identifiers in groups: unsuppressing one frees its whole group (`id:x`, `email:key`). */
  suppressed: Set<string>[] = [];
  /** Events kept under an anonymous id linked to no one: how many, per id. */
  anonymousEvents = new Map<string, number>();
  private nextKey = 1;

  constructor(
    readonly mode: Mode,
    /** The workspace setting: a call that finds a person by id may change their email to a free address. */
    readonly allowEmailUpdateById = false,
  ) {}

  /** A reference as the server reads it: in id_only workspaces an email-shaped path reference is an id. */
  private read(ref: RefSpec): RefSpec {
    return ref.kind === 'email' && this.mode === 'id_only' ? { kind: 'id', value: ref.value } : ref;
  }

  find(ref: RefSpec): ModelPerson | undefined {
    const r = this.read(ref);
    if (r.kind === 'cio') return this.people[r.n];
    if (r.kind === 'id') return this.people.find((p) => p.id === r.value);
    return this.people.find((p) => p.email !== null && emailKey(p.email) === emailKey(r.value));
  }

  private byId(id: string) {
    return this.people.find((p) => p.id === id);
  }

  private byEmail(email: string) {
    if (this.mode === 'id_only') return undefined; // email is not an identifier there
    return this.people.find((p) => p.email !== null && emailKey(p.email) === emailKey(email));
  }

  /** The suppression key a reference stands for (cio_id references have none). */
  private keyOf(ref: RefSpec): string | null {
    const r = this.read(ref);
    if (r.kind === 'id') return `id:${r.value}`;
    if (r.kind === 'email') return `email:${emailKey(r.value)}`;
    return null;
  }

  private isSuppressed(key: string | null) {
    return key !== null && this.suppressed.some((g) => g.has(key));
  }

  private create(id: string | null, email: string | null): ModelPerson {
    const p: ModelPerson = { key: this.nextKey++, id, email, attrs: {}, events: 0, anonymousIds: [] };
    this.people.push(p);
    return p;
  }

  private remove(p: ModelPerson) {
    this.people = this.people.filter((x) => x !== p);
  }

  /** Attributes: shallow merge; null or "" removes. */
  private applyAttrs(p: ModelPerson, attrs: Record<string, unknown>) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === '') delete p.attrs[k];
      else p.attrs[k] = v;
    }
  }

  apply(op: Op): ModelAnswer {
    switch (op.type) {
      case 'identify':
        return this.identify(op);
      case 'event':
        return this.event(op.ref);
      case 'anon_event': {
        // Kept under the anonymous id, or given straight to the person it is linked to.
        const owner = this.people.find((p) => p.anonymousIds.includes(op.anonymousId));
        if (owner) owner.events++;
        else this.anonymousEvents.set(op.anonymousId, (this.anonymousEvents.get(op.anonymousId) ?? 0) + 1);
        return { status: 200 };
      }
      case 'merge':
        return this.merge(op.primary, op.secondary);
      case 'delete': {
        const p = this.find(op.ref);
        if (p) this.remove(p);
        return { status: 200 }; // deleting someone absent is a no-op (docs/identity.md)
      }
      case 'suppress': {
        const p = this.find(op.ref);
        const keys: string[] = [];
        if (p) {
          if (p.id !== null) keys.push(`id:${p.id}`);
          if (p.email !== null && this.mode === 'email_or_id') keys.push(`email:${emailKey(p.email)}`);
          this.remove(p);
        } else {
          const key = this.keyOf(op.ref);
          if (key === null) return { status: 404, code: 'person_not_found' }; // an unknown cio_id
          keys.push(key);
        }
        // A key already suppressed stays in its own group.
        const fresh = keys.filter((k) => !this.isSuppressed(k));
        if (fresh.length) this.suppressed.push(new Set(fresh));
        return { status: 200 };
      }
      case 'unsuppress': {
        const key = this.keyOf(op.ref);
        if (key !== null) this.suppressed = this.suppressed.filter((g) => !g.has(key));
        return { status: 200 };
      }
    }
  }

  /** Person events: an unknown id or email creates the person; an unknown cio_id is 404; suppressed is dropped. */
  private event(ref: RefSpec): ModelAnswer {
    if (this.isSuppressed(this.keyOf(ref))) return { status: 200 };
    let p = this.find(ref);
    if (!p) {
      const r = this.read(ref);
      if (r.kind === 'cio') return { status: 404, code: 'person_not_found' };
      p = r.kind === 'id' ? this.create(r.value, null) : this.create(null, r.value);
    }
    p.events++;
    return { status: 200 };
  }

  /** Merge: both must exist; the primary keeps its own, gains what it lacks; the secondary's events move. */
  private merge(primaryRef: RefSpec, secondaryRef: RefSpec): ModelAnswer {
    // (Roster) merge identifiers are typed: an `email` one in an id_only workspace is refused.
    if (this.mode === 'id_only' && (primaryRef.kind === 'email' || secondaryRef.kind === 'email'))
      return { status: 400, code: 'invalid_identifier' };
    const primary = this.find(primaryRef);
    if (!primary) return { status: 404, code: 'person_not_found' };
    const secondary = this.find(secondaryRef);
    if (!secondary) return { status: 404, code: 'person_not_found' };
    if (primary === secondary) return { status: 400, code: 'invalid_merge' };
    for (const [k, v] of Object.entries(secondary.attrs)) if (!(k in primary.attrs)) primary.attrs[k] = v;
    primary.id ??= secondary.id;
    primary.email ??= secondary.email;
    primary.events += secondary.events;
    primary.anonymousIds.push(...secondary.anonymousIds);
    this.remove(secondary);
    return { status: 200 };
  }

  /** The identify table, row by row. */
  private identify(op: Extract<Op, { type: 'identify' }>): ModelAnswer {
    const { id: bodyId, email: bodyEmail, attrs } = op;
    if (bodyId !== undefined && bodyId.startsWith('cio_')) return { status: 400, code: 'reserved_prefix' };
    const ref = this.read(op.ref);
    const emailIsIdentifier = this.mode === 'email_or_id';
    // A suppressed reference or body identifier drops the call (200).
    const keys = [
      this.keyOf(ref),
      bodyId === undefined ? null : `id:${bodyId}`,
      bodyEmail === undefined || !emailIsIdentifier ? null : `email:${emailKey(bodyEmail)}`,
    ];
    if (keys.some((k) => this.isSuppressed(k))) return { status: 200 };

    const conflicts: Conflict[] = [];
    const inUse = (field: Conflict['field']) => conflicts.push({ field, reason: 'identifier_in_use' });
    const needsCio = (field: Conflict['field']) =>
      conflicts.push({ field, reason: 'identifier_change_requires_cio_id' });
    const notFound: ModelAnswer = { status: 404, code: 'person_not_found' };
    const sameEmail = (a: string | null, b: string) => a !== null && emailKey(a) === emailKey(b);
    let target: ModelPerson;

    if (ref.kind === 'cio') {
      const p = this.people[ref.n];
      if (!p) return notFound; // row 1
      target = p; // row 2: identifiers change to the body's unless someone else holds them
      if (bodyId !== undefined && bodyId !== p.id) {
        const q = this.byId(bodyId);
        if (q && q !== p) inUse('id');
        else p.id = bodyId;
      }
      if (bodyEmail !== undefined) {
        if (!emailIsIdentifier) p.email = bodyEmail;
        else if (!sameEmail(p.email, bodyEmail)) {
          const q = this.byEmail(bodyEmail);
          if (q && q !== p) inUse('email');
          else p.email = bodyEmail;
        }
      }
    } else if (ref.kind === 'id' && !emailIsIdentifier) {
      // row 16: email is an attribute; the id never changes by id reference.
      if (bodyId !== undefined && bodyId !== ref.value) needsCio('id');
      const p = this.byId(ref.value);
      if (p) target = p;
      else if (op.update) return notFound;
      else target = this.create(ref.value, null);
      if (bodyEmail !== undefined) target.email = bodyEmail;
    } else if (ref.kind === 'id') {
      if (bodyId !== undefined && bodyId !== ref.value) needsCio('id'); // row 17
      const p = this.byId(ref.value);
      if (p) {
        target = p;
        if (bodyEmail !== undefined && !sameEmail(p.email, bodyEmail)) {
          const q = this.byEmail(bodyEmail);
          if (q && q !== p)
            inUse('email'); // row 6
          else if (p.email === null)
            p.email = bodyEmail; // row 4
          else if (this.allowEmailUpdateById)
            p.email = bodyEmail; // row 5, setting on
          else needsCio('email'); // row 5, setting off
        } // row 3
      } else {
        const lead = bodyEmail === undefined ? undefined : this.byEmail(bodyEmail);
        if (lead && lead.id === null) {
          lead.id = ref.value; // row 7: lead → customer (also under _update)
          target = lead;
        } else if (lead) {
          if (op.update) return notFound;
          target = this.create(ref.value, null); // row 8
          inUse('email');
        } else {
          if (op.update) return notFound;
          target = this.create(ref.value, bodyEmail ?? null); // row 9
        }
      }
    } else {
      // Email reference.
      if (bodyEmail !== undefined && !sameEmail(ref.value, bodyEmail)) needsCio('email');
      const p = this.byEmail(ref.value);
      if (p) {
        target = p; // row 10
        if (bodyId !== undefined && bodyId !== p.id) {
          if (p.id !== null)
            needsCio('id'); // row 13
          else if (this.byId(bodyId))
            inUse('id'); // row 12
          else p.id = bodyId; // row 11
        }
      } else {
        const q = bodyId === undefined ? undefined : this.byId(bodyId);
        if (q) {
          target = q; // row 14
          if (q.email === null || this.allowEmailUpdateById) q.email = ref.value;
          else needsCio('email');
        } else {
          if (op.update) return notFound;
          target = this.create(bodyId ?? null, ref.value); // row 15
        }
      }
    }

    // Rule C: the rest of the call is applied all the same.
    this.applyAttrs(target, attrs);
    // anonymous_id: linked to the person (its events join them), unless someone else holds it (rule C).
    if (op.anonymousId !== undefined) {
      const owner = this.people.find((p) => p.anonymousIds.includes(op.anonymousId!));
      if (!owner) {
        target.anonymousIds.push(op.anonymousId);
        target.events += this.anonymousEvents.get(op.anonymousId) ?? 0;
        this.anonymousEvents.delete(op.anonymousId);
      } else if (owner !== target) inUse('anonymous_id');
    }
    if (conflicts.length === 0) return { status: 200 };
    return { status: 409, code: conflicts[0]!.reason, fields: conflicts.map((c) => c.field) };
  }
}
