import type { ExportRecord } from '../store/exports.js';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The App API export object (reference/customerio-api.md §4.4). */
export function exportView(e: ExportRecord) {
  return {
    id: e.pk,
    user_id: null,
    user_email: null,
    total: e.status === 'done' ? e.total : 0,
    deduplicate_id: `${e.pk}:${seconds(e.createdAt)}`,
    type: e.type,
    failed: e.status === 'failed',
    status: e.status,
    description: e.description,
    downloads: e.downloads,
    created_at: seconds(e.createdAt),
    updated_at: seconds(e.updatedAt),
  };
}
