/**
 * Test support: an AWQ/GPTQ checkpoint behind the plain `SafetensorsModel` interface, so a test can
 * read it exactly like an unquantized HF folder (convert itself goes through
 * src/pipeline/model-tensors.ts and formats/awq-gptq/dequantized-model.ts): each packed module appears as its
 * `<module>.weight` with dtype F32 and shape `[out, in]` (dequantized on demand, one layer cached),
 * every other tensor passes through with its stored dtype and bytes. `begin`/`end` of a
 * dequantized tensor are a virtual range (0..bytes) so `rowBytes()` works; there is no such file range.
 */
import type { SafetensorsModel } from '../../formats/safetensors/model.ts';
import type { SafetensorsTensor } from '../../formats/safetensors/header.ts';
import { openDequantizedModel } from '../../formats/awq-gptq/dequantized-model.ts';
import { openSafetensorsModel } from '../../formats/safetensors/model.ts';

export async function openQuantizedAsSafetensorsModel(dir: string): Promise<SafetensorsModel> {
  const deq = await openDequantizedModel(dir);
  // a second handle on the same files serves the raw bytes of the unquantized tensors
  const raw = await openSafetensorsModel(dir).catch(async (err) => { await deq.close(); throw err; });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of deq.tensors) {
    if (t.quantized) {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
      tensors.set(t.name, { name: t.name, dtype: 'F32', shape: t.shape, file: dir, begin: 0, end: bytes });
    } else {
      tensors.set(t.name, raw.tensors.get(t.name)!);
    }
  }
  const isPacked = (name: string) => deq.tensors.find((t) => t.name === name)?.quantized === true;
  const asBytes = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return {
    dir, files: raw.files, headers: raw.headers, tensors,
    async readTensor(name) {
      if (!isPacked(name)) return raw.readTensor(name);
      return asBytes(await deq.readRows(name, 0, tensors.get(name)!.shape[0]!));
    },
    async readRows(name, rowStart, rowCount) {
      if (!isPacked(name)) return raw.readRows(name, rowStart, rowCount);
      const rows = tensors.get(name)!.shape[0]!;
      if (!Number.isSafeInteger(rowStart) || !Number.isSafeInteger(rowCount) || rowStart < 0 || rowCount < 0 || rowStart + rowCount > rows) {
        throw new RangeError(`tensor '${name}' has ${rows} rows; cannot read ${rowCount} rows from row ${rowStart}`);
      }
      return asBytes(await deq.readRows(name, rowStart, rowCount));
    },
    async close() {
      await Promise.all([deq.close(), raw.close()]);
    },
  };
}
