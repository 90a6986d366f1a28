// How a pool worker loads the JS reference kernels (kernels/quant-table) for what its wasm module
// lacks: from the URL the pool sends at init — compiled JS beside a compiled pool, or the
// TypeScript source through tsx's loader (registered only then) when the pool runs from source.
// Plain JS so workers load it without a TypeScript loader. Both worker scripts use it.

/** @returns {{ setSource(url: string, typescript: boolean): void, load(): Promise<any> }} */
export function referenceLoader(who) {
  /** @type {{ url: string, typescript: boolean } | undefined} */ let source;
  /** @type {Promise<any> | undefined} */ let loaded;
  return {
    setSource(url, typescript) { source = { url, typescript }; },
    load() {
      loaded ??= (async () => {
        if (!source) throw new Error(`${who}: reference kernels requested before init`);
        if (source.typescript) {
          const { register } = await import('tsx/esm/api');
          register();
        }
        return import(source.url);
      })();
      return loaded;
    },
  };
}
