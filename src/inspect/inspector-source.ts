/**
 * The interactive inspector's data source (the TUI's inspector screen reads through it): one open GGUF (local file, http(s) URL or `hf:ORG/NAME/FILE.gguf`)
 * kept open while the inspector shows it, so selecting a tensor reads only that tensor's first
 * rows (for the histogram) and its first block (decoded by the inspect module).
 */
import { openSource, type ByteSource } from '../../formats/io/byte-source.ts';
import { readGguf, readTensorBytes, tensorRows, type GgufFile } from '../../formats/gguf/reader.ts';
import { canDequantize, dequantize } from '../../kernels/quant-table.ts';
import { parseHubSource } from '../hub/source.ts';
import { openHubFile, type HubFileOptions } from '../hub/remote-file.ts';
import { buildInspectReport, type InspectReport } from './report.ts';
import { readBlockView, type BlockView } from './block-view.ts';

export interface Histogram {
  min: number;
  max: number;
  /** Counts per equal-width bin over [min, max]. */
  bins: number[];
  /** Elements sampled (the first rows of the tensor). */
  sampled: number;
  total: number;
}

export interface InspectorSource {
  report: InspectReport;
  histogram(tensor: string, bins?: number): Promise<Histogram | null>;
  firstBlock(tensor: string): Promise<BlockView>;
  close(): Promise<void>;
}

/** Reads at most this many values per histogram: enough for a shape, cheap even remotely. */
const SAMPLE_LIMIT = 1 << 16;

export async function openInspector(target: string, hubOptions: HubFileOptions = {}): Promise<InspectorSource> {
  const hub = parseHubSource(target);
  const src: ByteSource = hub ? await openHubFile(hub, hubOptions) : await openSource(target);
  let file: GgufFile;
  try {
    file = await readGguf(src);
  } catch (err) {
    await src.close();
    throw err;
  }
  const report = buildInspectReport(file, { fullArrays: true });
  const find = (name: string) => file.tensors.find((t) => t.name === name);
  return {
    report,
    async histogram(name, nBins = 32) {
      const t = find(name);
      if (!t || !canDequantize(t.type)) return null;
      const rowLen = Number(t.ne[0]);
      const total = t.ne.reduce((a, b) => a * Number(b), 1);
      const rows = Math.max(1, Math.min(tensorRows(t), Math.floor(SAMPLE_LIMIT / rowLen)));
      const bytes = await readTensorBytes(src, file, t, 0, rows);
      const values = dequantize(t.type, bytes, rows * rowLen);
      return histogramOf(values, nBins, total);
    },
    firstBlock: (name) => readBlockView(src, file, `${name}:0`),
    close: () => src.close(),
  };
}

export function histogramOf(values: Float32Array, nBins: number, total = values.length): Histogram {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const bins = new Array<number>(nBins).fill(0);
  if (min === Infinity) return { min: 0, max: 0, bins, sampled: values.length, total };
  const width = (max - min) / nBins || 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    bins[Math.min(nBins - 1, Math.floor((v - min) / width))]!++;
  }
  return { min, max, bins, sampled: values.length, total };
}
