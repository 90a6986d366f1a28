// The calibration anomaly thresholds as flags: declared once (src/cli/options.ts), parsed by one
// rule (positiveNumber) for the CLI and the batch file, handed to the AWQ/GPTQ pipeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { positiveNumber } from '../src/options/values.ts';
import { lossThresholdOptions, lossThresholdsOf } from '../src/cli/options.ts';
import { parseBatchSpec } from '../src/batch/spec.ts';
import { resolveOptions } from '../src/pipeline/awq-gptq/options.ts';
import { findAnomalies } from '../src/pipeline/calib-anomalies.ts';
import { runCli } from './support/cli.ts';
import { calibLayers } from './support/calib-fixture.ts';

test('positiveNumber: finite and above zero', () => {
  assert.equal(positiveNumber('1.5'), 1.5);
  assert.equal(positiveNumber('10'), 10);
  assert.equal(positiveNumber('1e-3'), 0.001);
  assert.equal(positiveNumber(' .5 '), 0.5);
  assert.equal(positiveNumber(2), 2);
  for (const bad of ['0', '-1', 'abc', '', '1.5x', 'Infinity', 'NaN', '0x10']) assert.throws(() => positiveNumber(bad), /expected a positive number/, bad);
  assert.throws(() => positiveNumber(Infinity), /expected a positive number/);
});

test('the flags parse into the thresholds the rules take; unset ones keep the defaults', async () => {
  const cmd = new Command().exitOverride();
  for (const o of lossThresholdOptions()) cmd.addOption(o);
  cmd.parse(['--loss-early-threshold', '0.5', '--loss-outlier-factor', '4'], { from: 'user' });
  const t = lossThresholdsOf(cmd.opts());
  assert.deepEqual(t, { earlyThreshold: 0.5, outlierFactor: 4 });
  // The pipeline keeps them for the calibration loop's findAnomalies.
  assert.deepEqual(resolveOptions({ source: 's', output: 'o', method: 'gptq', lossThresholds: t }).lossThresholds, t);
  // Layer 0 averages 0.6: flagged at 0.5, not at the default 1.0.
  const layers = calibLayers({ nLayer: 6, base: 0.1, growth: 1 });
  layers[0]!.modules.forEach((m) => { m.loss = 0.6; });
  assert.deepEqual(findAnomalies(layers, t).filter((a) => a.rule === 'early-layer-loss').map((a) => a.layer), [0]);
  assert.deepEqual(findAnomalies(layers, lossThresholdsOf({})).filter((a) => a.rule === 'early-layer-loss'), []);
});

test('convert: a bad threshold is a usage error (exit 2) before anything is read', () => {
  const r = runCli(['convert', 'no-such-folder', '-t', 'gptq', '-o', 'x', '--loss-outlier-factor', '0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--loss-outlier-factor <x>' argument '0' is invalid\. expected a positive number, got '0'/);
  const help = runCli(['convert', '--help']);
  assert.match(help.stdout, /--loss-early-threshold <x>/);
  assert.match(help.stdout, /--loss-outlier-factor <x>/);
});

test('batch file: lossEarlyThreshold and lossOutlierFactor, judged by the same parser, errors with the line', () => {
  const spec = parseBatchSpec(['defaults:', '  lossOutlierFactor: 20', 'jobs:', '  - source: m', '    type: gptq', '    lossEarlyThreshold: 0.25'].join('\n'), 'jobs.yaml');
  assert.equal(spec.defaults.lossOutlierFactor, 20);
  assert.equal(spec.jobs[0]!.lossEarlyThreshold, 0.25);
  assert.throws(() => parseBatchSpec(['jobs:', '  - source: m', '    type: gptq', '    lossEarlyThreshold: -1'].join('\n'), 'jobs.yaml'),
    /jobs\.yaml:4: `lossEarlyThreshold`: expected a positive number, got '-1'/);
});
