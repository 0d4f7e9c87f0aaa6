// Preloaded with `node --import` by a test: every module the program imports
// is named on stderr (`import URL`) as it is resolved, so the test can tell
// what was loaded before a line the program prints.
import { register } from 'node:module';

register('./import-log-hooks.mjs', import.meta.url);
