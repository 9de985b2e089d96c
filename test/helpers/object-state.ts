import type { TestWorkspace } from './roster-server.js';

/** An object (Segment group) as the App API shows it (`GET /v1/objects/{type}/{id}`). */
export interface ObjectState {
  object_type_id: string;
  object_id: string;
  attributes: Record<string, unknown>;
  /** Unix seconds. */
  created_at: number;
  relationships: {
    identifiers: { id: string | null; email: string | null; cio_id: string };
    relationship_attributes: Record<string, unknown>;
  }[];
}

/** The object with the people related to it, or null when the App API answers 404. */
export async function objectState(ws: TestWorkspace, typeId: string, objectId: string): Promise<ObjectState | null> {
  const r = await ws.app('GET', `/v1/objects/${encodeURIComponent(typeId)}/${encodeURIComponent(objectId)}`);
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`objects: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.object as ObjectState;
}

/** The ids of the people related to an object, in the order the App API lists them. */
export async function relatedIds(ws: TestWorkspace, typeId: string, objectId: string): Promise<(string | null)[]> {
  return (await objectState(ws, typeId, objectId))?.relationships.map((r) => r.identifiers.id) ?? [];
}
