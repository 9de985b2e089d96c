import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { downloadLinkKey, downloadLinkTtlMs, signDownload, verifyDownload } from '../../domain/download-links.js';
import { fail, RosterError } from '../../domain/errors.js';
import { filterToJson } from '../../domain/filters.js';
import { byteLength, limits } from '../../domain/limits.js';
import { customersExportKind } from '../../jobs/exports.js';
import { prepareFilter } from '../../queries/people-filter.js';
import { decodePkCursor, pageOf } from '../../queries/pk-cursor.js';
import { exportView } from '../../queries/export-view.js';
import { exportsStore } from '../../store/exports.js';
import { jobsStore } from '../../store/jobs.js';
import type { Db } from '../../store/types.js';
import { parseLimit } from './query.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the export endpoints need besides the reader. */
export interface ExportDeps {
  writer: Db;
  masterKey: Buffer;
  /** Called once an export is queued, so this process starts on it without waiting for the next poll. */
  onExportQueued?: () => void;
  /** How long a download link works (default 15 minutes). */
  linkTtlMs?: number;
  /** The clock links are signed and checked with (tests). */
  clock?: () => number;
}

/** An export id from the path: anything but a whole number names no export. */
function parseExportId(raw: string): number {
  const n = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new RosterError('export_not_found');
  return n;
}

function parseAttributeList(raw: unknown): string[] | null {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw) || raw.length > limits.attributesPerPerson)
    throw fail('invalid_body', `attributes: an array of at most ${limits.attributesPerPerson} names.`, 'attributes');
  const names = raw.map((name) => {
    if (typeof name !== 'string' || name === '' || byteLength(name) > limits.attributeNameBytes)
      throw fail('invalid_body', `attributes: names of 1 to ${limits.attributeNameBytes} bytes.`, 'attributes');
    return name;
  });
  return [...new Set(names)];
}

/** The public origin download links point at: ROSTER_PUBLIC_URL, else the host the request came to. */
const originOf = (request: FastifyRequest) =>
  process.env.ROSTER_PUBLIC_URL?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;

/** App API exports (Bearer): create a customer export, list and read exports, get a signed download link. */
export function exportRoutes(app: FastifyInstance, reader: Db, deps: ExportDeps) {
  const config = { errorShape: 'app' as const };
  const key = downloadLinkKey(deps.masterKey);
  const clock = deps.clock ?? Date.now;
  const exportOf = async (request: { workspace: { pk: number }; params: { id: string } }) => {
    const e = await exportsStore.byPk(reader, request.workspace.pk, parseExportId(request.params.id));
    if (!e) throw new RosterError('export_not_found');
    return e;
  };

  app.post('/v1/exports/customers', { config }, async (request) => {
    const body = request.body;
    if (!isObject(body) || body.filters === undefined) throw fail('invalid_filter', 'filters: required.', 'filters');
    const { node } = await prepareFilter(reader, request.workspace.pk, body.filters, 'filters');
    const attributes = parseAttributeList(body.attributes);
    const description =
      typeof body.description === 'string' && body.description.length <= 1000 ? body.description : 'Customers export';
    const created = await exportsStore.create(deps.writer, request.workspace.pk, {
      filters: filterToJson(node),
      attributes,
      description,
    });
    await jobsStore.enqueue(deps.writer, { kind: customersExportKind, payload: { exportPk: created.pk } });
    deps.onExportQueued?.();
    return { export: exportView(created) };
  });

  app.get<{ Querystring: { start?: string; limit?: string } }>('/v1/exports', { config }, async (request) => {
    const afterPk = decodePkCursor('exports', request.query.start);
    const limit = parseLimit(request.query.limit, 1000, 100);
    const rows = await exportsStore.page(reader, request.workspace.pk, afterPk, limit + 1);
    const { rows: exports, next } = pageOf('exports', rows, limit, (e) => e.pk);
    return { exports: exports.map(exportView), next };
  });

  app.get<{ Params: { id: string } }>('/v1/exports/:id', { config }, async (request) => ({
    export: exportView(await exportOf(request)),
  }));

  app.get<{ Params: { id: string } }>('/v1/exports/:id/download', { config }, async (request) => {
    const e = await exportOf(request);
    if (e.status === 'expired') throw new RosterError('export_expired');
    if (e.status !== 'done')
      throw new RosterError('export_not_ready', `The export is ${e.status}; a link is given once it is done.`);
    const { exp, sig } = signDownload(key, e.pk, clock() + (deps.linkTtlMs ?? downloadLinkTtlMs));
    return { url: `${originOf(request)}/exports/${e.pk}/file?exp=${exp}&sig=${sig}` };
  });
}

/**
 * The signed download itself, outside the Bearer-authenticated API: the link is the credential. 401
 * `invalid_signature` for an altered link, 403 `link_expired` for an old one. Streams the stored chunks.
 */
export function exportDownloadRoutes(app: FastifyInstance, reader: Db, deps: ExportDeps) {
  const key = downloadLinkKey(deps.masterKey);
  const clock = deps.clock ?? Date.now;
  app.get<{ Params: { id: string }; Querystring: { exp?: string; sig?: string } }>(
    '/exports/:id/file',
    { config: { errorShape: 'app' } },
    async (request, reply) => {
      const id = /^[0-9]{1,15}$/.test(request.params.id) ? Number(request.params.id) : 0;
      verifyDownload(key, id, request.query.exp, request.query.sig, clock());
      const e = await exportsStore.byPk(reader, null, id);
      if (e?.status === 'expired') throw new RosterError('export_expired');
      if (!e || e.status !== 'done') throw new RosterError('export_not_found');
      await exportsStore.countDownload(deps.writer, e.pk);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="customers-export-${e.pk}.csv"`)
        .header('cache-control', 'private, no-store')
        .send(Readable.from(exportsStore.chunks(reader, e.pk)));
    },
  );
}
