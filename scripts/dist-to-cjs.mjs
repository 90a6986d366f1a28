// The last step of `npm run build:js`: rewrites tsc's ESM output in dist/ as CommonJS, in place.
//
// Why: start-up is part of the product (scripts call the CLI hundreds of times), and on Node 20
// the ESM loader costs ~0.8 ms a module (async reads, URL resolution, a job per module) against
// ~0.2 ms for require() (measured with 100 chained modules; the CLI loads 35–105). Measured on
// the compiled CLI: --help −30 ms, inspect of a 7B header −25 ms, a tiny quantize −30 ms.
// Sources stay ESM TypeScript; tests run them through tsx unchanged.
//
// Rules, applied to every compiled file:
// - `.js` and `.mjs` become CommonJS (esbuild's ESM → CJS transform); `.mjs` files (the worker
//   scripts and what they import) are renamed `.cjs`, and every relative specifier or URL naming
//   one is rewritten to match. dist/package.json says "commonjs", so `.js` means CJS there.
// - `import.meta.url` / `import.meta.dirname` become the CJS module's own file URL / __dirname.
// - A literal relative dynamic import() of our own code becomes a lazy require(): it still loads
//   only when reached, without an ESM loader round trip.
// - The TUI (src/tui/) stays ESM, renamed `.mjs`: ink is ESM-only and its layout engine uses
//   top-level await, which require() cannot load. It imports the CJS modules like any package.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { transformSync } from 'esbuild';

const TUI_DIR = `src${sep}tui${sep}`;
const META_URL = '__importMetaUrl';

const walk = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? walk(p) : [p];
});

/** Relative specifiers (static, dynamic, URL strings) in either quote style. */
const RELATIVE = /(["'])(\.{1,2}\/[^"'\n]*?)\.(m?js)\1/g;

/** `isTui(target)`: whether a specifier (resolved from `file`) lands in the TUI. */
function rewriteSpecifiers(code, fileRel) {
  return code.replace(RELATIVE, (whole, q, stem, ext) => {
    const target = join(fileRel, '..', `${stem}.${ext}`);
    if (target.startsWith(TUI_DIR)) return `${q}${stem}.mjs${q}`;
    if (ext === 'mjs') return `${q}${stem}.cjs${q}`;
    return whole;
  });
}

/** Lazy require() for literal relative dynamic imports of CJS modules (not the TUI's .mjs). */
const DYNAMIC_IMPORT = /\bimport\((["'])(\.{1,2}\/[^"'\n]*?\.c?js)\1\)/g;

export function distToCjs(dist) {
  const files = walk(dist).filter((f) => /\.m?js$/.test(f));
  for (const file of files) {
    const rel = relative(dist, file);
    let code = readFileSync(file, 'utf8');
    const shebang = code.startsWith('#!') ? code.slice(0, code.indexOf('\n') + 1) : '';
    code = rewriteSpecifiers(code.slice(shebang.length), rel);
    if (rel.startsWith(TUI_DIR)) {
      writeFileSync(file, shebang + code);
      renameSync(file, file.replace(/\.m?js$/, '.mjs'));
      continue;
    }
    code = code.replace(DYNAMIC_IMPORT, 'Promise.resolve().then(() => require($1$2$1))');
    const usesMeta = code.includes('import.meta');
    const out = transformSync(code, {
      format: 'cjs', platform: 'node', target: 'node20', loader: 'js', sourcefile: rel,
      define: { 'import.meta.url': META_URL, 'import.meta.dirname': '__dirname' },
      logLevel: 'error',
    }).code;
    const meta = usesMeta ? `const ${META_URL} = require("node:url").pathToFileURL(__filename).href;\n` : '';
    writeFileSync(file, shebang + meta + out);
    if (file.endsWith('.mjs')) renameSync(file, file.replace(/\.mjs$/, '.cjs'));
  }
  writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
  return files.length;
}
