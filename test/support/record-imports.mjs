// `node --import ./test/support/record-imports.mjs …` with RECORD_IMPORTS=FILE: appends the URL
// of every module the process loads to FILE, so a test can tell what a command pulled in.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url);
