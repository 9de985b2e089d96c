import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A database handle or an open transaction on it. */
export type Db = Kysely<Database>;
