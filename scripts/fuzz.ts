/**
 * `npm run fuzz [cases] [seed]`: the long fuzz run (default 100,000 cases) over GGUF, safetensors,
 * config.json, tokenizer.json and tokenizer_config.json, the same mutator and judge as the suite's
 * test/fuzz.test.ts. Prints progress, then the figures quoted in README and every failure's case
 * number (replay with the same seed). Exit code 1 if any case failed.
 */
import { runFuzz } from '../test/support/fuzz-runner.ts';

const cases = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 20261202);
let last = 0;
const stats = await runFuzz({
  seed,
  cases,
  onProgress(done, s) {
    if (done - last >= 1000 || done === cases) {
      last = done;
      process.stderr.write(`\r${done}/${cases} cases, ${s.failures.length} failures`);
    }
  },
});
process.stderr.write('\n');
const top = Object.entries(stats.codes).sort((a, b) => b[1] - a[1]);
console.log(`seed ${stats.seed}: ${stats.cases} cases in ${stats.seconds.toFixed(0)} s (${(stats.cases / stats.seconds).toFixed(0)}/s)`);
console.log(`valid results ${stats.ok}, typed errors ${stats.typed} (${top.length} distinct codes), failures ${stats.failures.length}`);
console.log(`slowest case ${stats.slowestCaseMs.toFixed(0)} ms, largest RSS rise ${stats.maxRssRiseMb.toFixed(0)} MiB`);
for (const [t, v] of Object.entries(stats.byTarget)) console.log(`  ${t}: ${v.cases} cases, ${v.ok} valid`);
console.log('typed errors by kind:code:');
for (const [code, n] of top) console.log(`  ${code}: ${n}`);
for (const f of stats.failures) console.log(`FAIL case ${f.i} (${f.target}) ${f.kind}: ${f.detail}`);
process.exitCode = stats.failures.length ? 1 : 0;
