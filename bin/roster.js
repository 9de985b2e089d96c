#!/usr/bin/env -S node --max-semi-space-size=64
// The built CLI; `npm start` and `npm test` build it first (scripts/bootstrap.mjs). The flag (also in `npm start` and
// the benchmark's servers) gives V8's young generation 64 MB semi-spaces instead of 16: a write batch keeps ~800
// messages' objects alive, so small ones were collected ~30 times a second; with 64 MB the Segment mix spent 6% of
// its time in young-generation GC instead of 10% and applied ~5% more messages per second (docs/operations.md).
import { buildCli } from '../dist/cli/main.js';

await buildCli().parseAsync(process.argv);
