import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { exportsStore } from '../../src/store/exports.js';
import { testBackend } from '../helpers/backend.js';
import { useStore } from '../helpers/store.js';

/** Export chunks on PostgreSQL are compressed with lz4 (migration 0015): pglz cost a 1M export job seconds of CPU. */

const t = useStore('roster-export-chunks-');

describe('export chunks', () => {
  it.skipIf(testBackend !== 'postgres')('a chunk is stored lz4-compressed and read back whole', async () => {
    const data = 'cio_id,id,email\r\n'.concat('abc123,user-1,user1@example.com\r\n'.repeat(20_000));
    await exportsStore.putChunk(t.store.writer, 9001, 0, data);
    const { rows } = await sql<{ method: string | null }>`select pg_column_compression(data) as method
      from export_chunks where export_pk = 9001`.execute(t.store.reader);
    expect(rows).toEqual([{ method: 'lz4' }]);
    const read: string[] = [];
    for await (const chunk of exportsStore.chunks(t.store.reader, 9001)) read.push(chunk);
    expect(read.join('')).toBe(data);
  });
});
