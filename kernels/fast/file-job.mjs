// A pool thread's quantize job on files (protocol.ts FileJobMessage): piece by piece, read the
// F32 input from the input file straight into the wasm instance's memory, find NaN/Inf there,
// quantize in place, check the scales as ggml_validate_row_data does, write the bytes at their
// final position in the output file and, when asked, dequantize into the instance's third region
// and sum the round trip there (wasm roundTripAccumulate, the metrics' own float64 arithmetic,
// compensated totals included). Every pass over the data runs in wasm: the scale check too
// (wasm firstNonFiniteField, the test of nonfinite-fields.mjs), so JS only loops over pieces.
// The same kernels and the same bytes as a shared-memory job (job-runner.mjs), without its three
// copies (file → shared buffer → wasm → shared buffer) and without the page faults of the main
// thread's fresh buffers, which cost more than the quantizing on small VMs (measured: ~10 µs a page).
import { readSync, writeSync } from 'node:fs';
import { FILE_PIECE_ELEMS, METRICS_STATE } from './wasm-kernels.mjs';
import { RoundTripMetrics } from '../metrics.mjs';
import { firstNonFiniteFieldWasm } from '../nonfinite-fields.mjs';

/** @param {number} fd @param {Uint8Array} heap @param {number} at @param {number} length @param {number} position */
function readFully(fd, heap, at, length, position) {
  for (let done = 0; done < length;) {
    const n = readSync(fd, heap, at + done, length - done, position + done);
    if (n === 0) throw new Error(`input file ended at offset ${position + done} (needs ${length - done} more bytes)`);
    done += n;
  }
}

/** @param {number} fd @param {Uint8Array} heap @param {number} at @param {number} length @param {number} position */
function writeFully(fd, heap, at, length, position) {
  for (let done = 0; done < length;) done += writeSync(fd, heap, at + done, length - done, position + done);
}

/**
 * @param {import('./wasm-kernels.mjs').WasmKernels} kernels
 * @param {import('./protocol.ts').FileJobMessage} job
 * @returns {import('./protocol.ts').JobResult}
 */
export function runFileJob(kernels, job) {
  const t = { name: job.typeName, blockSize: job.blockSize, typeSize: job.typeSize };
  const quantize = kernels.kernel('quantize', t);
  const dequantize = job.measure ? kernels.kernel('dequantize', t) : undefined;
  const { firstNonFinite, firstNonFiniteField, roundTripAccumulate } = kernels.exports;
  const { inPtr, outPtr, backPtr, metricsPtr } = kernels;
  const heap = new Uint8Array(kernels.memory.buffer);
  const piece = FILE_PIECE_ELEMS - (FILE_PIECE_ELEMS % t.blockSize);
  if (dequantize) new Float64Array(kernels.memory.buffer, metricsPtr, METRICS_STATE).fill(0);
  for (let done = 0; done < job.n; done += piece) {
    const m = Math.min(piece, job.n - done);
    const blocks = m / t.blockSize;
    readFully(job.inFd, heap, inPtr, m * 4, job.inOffset + done * 4);
    if (job.check) {
      const bad = firstNonFinite(inPtr, m);
      if (bad >= 0) return { firstNonFinite: done + bad, nonFiniteValue: new Float32Array(kernels.memory.buffer, inPtr, m)[bad], invalidBlock: -1 };
    }
    quantize(inPtr, outPtr, blocks);
    const invalid = firstNonFiniteFieldWasm(firstNonFiniteField, job.fields, t.typeSize, outPtr, blocks);
    if (invalid >= 0) return { firstNonFinite: -1, invalidBlock: done / t.blockSize + invalid };
    writeFully(job.outFd, heap, outPtr, blocks * t.typeSize, job.outOffset + (done / t.blockSize) * t.typeSize);
    if (dequantize) {
      dequantize(outPtr, backPtr, blocks);
      roundTripAccumulate(inPtr, backPtr, m, metricsPtr);
    }
  }
  const metrics = dequantize ? RoundTripMetrics.fromState(new Float64Array(kernels.memory.buffer, metricsPtr, METRICS_STATE)) : undefined;
  return { firstNonFinite: -1, invalidBlock: -1, metrics };
}
