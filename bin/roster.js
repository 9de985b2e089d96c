#!/usr/bin/env node
// The built CLI; `npm start` and `npm test` build it first (scripts/bootstrap.mjs).
import { buildCli } from '../dist/cli/main.js';

await buildCli().parseAsync(process.argv);
