/**
 * The published package, as a user gets it: `npm pack` the project, install it by name into an
 * empty prefix from a local registry on 127.0.0.1 that serves the tarball and the runtime
 * dependencies the lockfile pins (test/support/local-registry.ts; a fresh npm cache, so nothing
 * comes from the network or from what the machine happens to have cached), then run the installed `gguf-forge`: --help, and convert on the bundled sample,
 * once with a wasm kernel (q8_0) and once with a type whose kernel is the JS reference run in the
 * workers (iq4_NL), so the compiled worker's fallback path is exercised too. The tarball must
 * carry dist/ (with forge.wasm and the sample) and nothing for developers: no sources, no tests,
 * no tsx, assemblyscript or @huggingface/gguf in the install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readGguf } from '../formats/gguf/reader.ts';
import { ROOT, collectOutput } from './support/cli.ts';
import { startLocalRegistry } from './support/local-registry.ts';

/** Runs a command without blocking this process (the registry answers from here). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return collectOutput(spawn(cmd, args, { cwd, env: { ...process.env, CI: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...env } }));
}

test('npm pack → offline install into an empty prefix → gguf-forge --help and convert on the bundled sample', { timeout: 600_000 }, async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'gguf-forge-pack-'));
  try {
    // dist/ is already built (npm test builds first); --ignore-scripts so packing does not rebuild it.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/cli/bin.js'), 'the compiled CLI');
    assert.ok(files.includes('dist/kernels/fast/worker.cjs'), 'the compiled worker');
    assert.ok(files.includes('dist/kernels/wasm/build/forge.wasm'), 'the wasm kernels, built before packing');
    assert.ok(files.includes('dist/samples/stories260K/model.safetensors'), 'the bundled sample');
    const stray = files.filter((f) => !(f.startsWith('dist/') || ['package.json', 'README.md', 'LICENSE'].includes(f)));
    assert.deepEqual(stray, [], 'only dist/ and the package metadata');
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') || f.endsWith('.tsx')), [], 'no TypeScript sources');

    const prefix = path.join(work, 'prefix');
    const registry = await startLocalRegistry(ROOT, path.join(work, info!.filename));
    let install;
    try {
      install = await run('npm', ['install', '--prefix', prefix, '--registry', registry.url, '--cache', path.join(work, 'npm-cache'), 'gguf-forge@0.1.0'], work);
    } finally {
      await registry.close();
    }
    assert.equal(install.status, 0, install.stderr);
    const modules = path.join(prefix, 'node_modules');
    for (const devOnly of ['tsx', 'assemblyscript', '@huggingface/gguf', 'typescript', 'esbuild']) {
      assert.ok(!existsSync(path.join(modules, devOnly)), `${devOnly} must not be installed for users`);
    }
    const bin = path.join(modules, '.bin', 'gguf-forge');

    const help = await run(bin, ['--help'], work);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: gguf-forge/);

    const sample = path.join(modules, 'gguf-forge', 'dist', 'samples', 'stories260K');
    for (const [type, extra] of [['q8_0', []], ['iq4_NL', ['--no-validate']]] as const) {
      const out = path.join(work, `stories-${type}.gguf`);
      const convert = await run(bin, ['convert', sample, '--type', type, '-o', out, '--threads', '2', ...extra], work);
      assert.equal(convert.status, 0, convert.stderr);
      assert.match(convert.stdout, new RegExp(`^wrote .*stories-${type}\\.gguf: ${type}, 47 tensors`));
      assert.doesNotMatch(convert.stderr, /fast kernels unavailable/);
      const g = await readGguf(out);
      assert.equal(g.tensors.length, 47);
    }
    assert.deepEqual(readdirSync(work).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
