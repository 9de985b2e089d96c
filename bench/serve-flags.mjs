// The Node flags `npm start` gives `roster serve`, read from package.json's start script, so the benchmark's servers
// run as a newcomer's does and the flag list has one home besides bin/roster.js's shebang.
import { readFileSync } from 'node:fs';

const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const words = scripts.start.split(/\s+/);

/** The words between `node` and `bin/roster.js` in `npm start` (e.g. `--max-semi-space-size=64`). */
export const serveNodeFlags = words.slice(words.indexOf('node') + 1, words.indexOf('bin/roster.js'));
