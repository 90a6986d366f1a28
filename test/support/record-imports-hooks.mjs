// Loader hooks for record-imports.mjs: one line per loaded module URL.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  if (process.env.RECORD_IMPORTS) appendFileSync(process.env.RECORD_IMPORTS, url + '\n');
  return next(url, context);
}
