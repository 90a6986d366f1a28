// `node --import ./test/support/record-imports.mjs …` with RECORD_IMPORTS=FILE: appends the URL
// of every module the process loads to FILE, so a test can tell what a command pulled in: ESM
// modules through a loader hook, CommonJS ones (the compiled dist/ is CJS, scripts/dist-to-cjs.mjs)
// as they are compiled. Workers inherit --import, so their modules are recorded too.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./record-imports-hooks.mjs', import.meta.url);

const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (process.env.RECORD_IMPORTS) appendFileSync(process.env.RECORD_IMPORTS, pathToFileURL(filename).href + '\n');
  return compile.call(this, content, filename);
};
