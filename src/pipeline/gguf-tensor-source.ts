/**
 * A tensor of an input GGUF as the write stage reads it: raw rows for copies, rows widened or
 * dequantized to F32 for quantizing. Both read into the writer's buffer when it offers one (F32
 * straight from the file, no copy); other types are read into one reused buffer and dequantized
 * into it. F32 rows of a local file are also offered as a file region, which the quantizer's
 * workers read themselves.
 */
import { readTensorBytes, tensorRowBytes, type GgufFile, type GgufTensorInfo } from '../../formats/gguf/reader.ts';
import type { ByteSource } from '../../formats/io/byte-source.ts';
import { GgmlTypeId } from '../../kernels/ggml-types.ts';
import type { TensorPlan } from '../policy/type-policy.ts';
import type { ReusedBytes } from './reused-bytes.ts';
import type { TensorSource } from './write-steps.ts';

// The reference kernels load only for a tensor that needs converting: an F32 input's rows go
// straight to the quantizer, and a quantize of one loads none of them.
const referenceKernels = () => import('../../kernels/quant-table.ts');

export function ggufTensorSource(src: ByteSource, file: GgufFile, t: GgufTensorInfo, plan: TensorPlan, raw: ReusedBytes): TensorSource {
  const nPerRow = t.ne[0]!;
  return {
    plan,
    readRawRows: (rowStart, rowCount, into) => readTensorBytes(src, file, t, rowStart, rowCount, into),
    fileRowsF32: (rowStart) => (t.type === GgmlTypeId.F32 && src.fd !== undefined ? { fd: src.fd, offset: file.dataOffset + t.offset + rowStart * nPerRow * 4 } : undefined),
    async readRowsF32(rowStart, rowCount, into) {
      const n = rowCount * nPerRow;
      const fits = into && into.length >= n;
      // F32 needs no conversion: read the file straight into the F32 buffer (or view the bytes in place).
      if (t.type === GgmlTypeId.F32) {
        const bytes = await readTensorBytes(src, file, t, rowStart, rowCount, fits ? new Uint8Array(into.buffer, into.byteOffset, n * 4) : undefined);
        if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
        return (await referenceKernels()).dequantize(t.type, bytes, n);
      }
      const { dequantize, quantKernel } = await referenceKernels();
      if (!fits) return dequantize(t.type, await readTensorBytes(src, file, t, rowStart, rowCount), n);
      await raw.with(rowCount * tensorRowBytes(t), async (buf) => {
        quantKernel(t.type)!.dequantize!(await readTensorBytes(src, file, t, rowStart, rowCount, buf), into, n);
      });
      return into.subarray(0, n);
    },
  };
}
