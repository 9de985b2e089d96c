import type { Attributes, AttributeTimestamps } from './attributes.js';

/** The parts of a person a merge combines. */
export interface MergeSide {
  id: string | null;
  email: string | null;
  attributes: Attributes;
  timestamps: AttributeTimestamps;
  createdAt: number;
}

/** The primary after a merge: identity.md, Merge. */
export interface MergedPerson {
  id: string | null;
  email: string | null;
  attributes: Attributes;
  timestamps: AttributeTimestamps;
  createdAt: number;
  unsubscribed: boolean;
}

/**
 * Primary keeps its attributes and gains those it lacks; it gains the secondary's id/email if it has none;
 * an unsubscribe on either side sticks; the older created_at is kept, the person having existed since then.
 */
export function mergePeople(primary: MergeSide, secondary: MergeSide): MergedPerson {
  const attributes: Attributes = { ...primary.attributes };
  const timestamps: AttributeTimestamps = { ...primary.timestamps };
  for (const [key, value] of Object.entries(secondary.attributes)) {
    // Own keys only: a primary lacking `toString` or `valueOf` gains it like any other attribute.
    if (Object.hasOwn(attributes, key)) continue;
    attributes[key] = value;
    const ts = Object.hasOwn(secondary.timestamps, key) ? secondary.timestamps[key] : undefined;
    if (ts !== undefined) timestamps[key] = ts;
  }
  const unsubscribed = primary.attributes.unsubscribed === true || secondary.attributes.unsubscribed === true;
  if (unsubscribed) attributes.unsubscribed = true;
  return {
    id: primary.id ?? secondary.id,
    email: primary.email ?? secondary.email,
    attributes,
    timestamps,
    createdAt: Math.min(primary.createdAt, secondary.createdAt),
    unsubscribed,
  };
}
