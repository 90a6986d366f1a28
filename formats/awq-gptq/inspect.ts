/**
 * `inspect` on an AWQ/GPTQ folder: the quantization config, every packed layer's bits, group size,
 * layout and act-order, the tensors kept unquantized, and the decoded zero points and scales of
 * one chosen group of one layer. Returns plain data; `src/pipeline/awq-gptq/inspect-text.ts`
 * renders it for people.
 */
import { FormatError } from '../errors.ts';
import { openQuantizedCheckpoint, type PackedLayerInfo } from './checkpoint.ts';
import type { QuantizedFolderConfig } from './config.ts';

export interface InspectQuantizedOptions {
  /** Module name (or a unique substring of one) whose group to decode; default: the first packed layer. */
  layer?: string;
  /** Group index to decode (default 0). */
  group?: number;
  /** How many output channels of the group to show (default 8; 0 = all). */
  channels?: number;
}

/** A packed layer as inspect reports it: act-order is known (the layer was read), plus its tensors. */
export interface PackedLayerReport extends Omit<PackedLayerInfo, 'actOrder'> {
  actOrder: boolean;
  tensors: { name: string; dtype: string; shape: number[] }[];
}

export interface GroupReport {
  module: string;
  group: number;
  /** Input columns that use this group (g_idx), ascending. */
  columns: number[];
  /** Output channels shown, with their decoded true zero point and fp16 scale. */
  channels: { channel: number; zero: number; scale: number }[];
  totalChannels: number;
}

export interface QuantizedFolderReport {
  dir: string;
  method: 'awq' | 'gptq';
  layout: QuantizedFolderConfig['layout'];
  bits: number;
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  configFile: string;
  quantizationConfig: Record<string, unknown>;
  files: string[];
  layers: PackedLayerReport[];
  kept: { name: string; dtype: string; shape: number[] }[];
  group: GroupReport;
}

export async function inspectQuantizedFolder(dir: string, opts: InspectQuantizedOptions = {}): Promise<QuantizedFolderReport> {
  const ckpt = await openQuantizedCheckpoint(dir);
  try {
    const { config, model } = ckpt;
    const packedNames = new Set<string>();
    const layers: PackedLayerReport[] = [];
    for (const l of ckpt.layers) {
      const parts = ['qweight', 'qzeros', 'scales', 'g_idx', 'bias'].map((p) => model.tensors.get(`${l.module}.${p}`)).filter((t) => t !== undefined);
      for (const p of parts) if (!p.name.endsWith('.bias')) packedNames.add(p.name);
      let actOrder = false;
      const g = model.tensors.get(`${l.module}.g_idx`);
      if (g && g.dtype === 'I32') {
        const gIdx = new Int32Array((await model.readTensor(g.name)).slice().buffer);
        actOrder = gIdx.some((v, k) => v !== (l.groupSize === -1 ? 0 : Math.floor(k / l.groupSize)));
      }
      layers.push({
        module: l.module, inFeatures: l.inFeatures, outFeatures: l.outFeatures, bits: l.bits, groupSize: l.groupSize,
        groups: l.groups, layout: l.layout, actOrder, hasBias: l.hasBias,
        tensors: parts.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape })),
      });
    }
    const kept = [...model.tensors.values()].filter((t) => !packedNames.has(t.name)).map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));

    const wanted = opts.layer ?? layers[0]!.module;
    const exact = layers.find((l) => l.module === wanted);
    const matches = exact ? [exact] : layers.filter((l) => l.module.includes(wanted));
    if (matches.length !== 1) {
      throw new FormatError('QUANT_NO_LAYER', matches.length ? `layer '${wanted}' is ambiguous (${matches.length} layers match, e.g. ${matches[0]!.module})` : `no packed layer matches '${wanted}'`, { file: dir, tensor: wanted });
    }
    const layer = matches[0]!;
    const groupIndex = opts.group ?? 0;
    if (!(Number.isInteger(groupIndex) && groupIndex >= 0 && groupIndex < layer.groups)) {
      throw new FormatError('QUANT_NO_GROUP', `layer '${layer.module}' has groups 0..${layer.groups - 1}; group ${groupIndex} does not exist`, { file: dir, tensor: layer.module });
    }
    const m = await ckpt.readLayer(layer.module);
    const shown = opts.channels === 0 ? m.rows : Math.min(opts.channels ?? 8, m.rows);
    const group: GroupReport = {
      module: layer.module, group: groupIndex, totalChannels: m.rows,
      columns: [...m.gIdx.keys()].filter((k) => m.gIdx[k] === groupIndex),
      channels: Array.from({ length: shown }, (_, n) => ({ channel: n, zero: m.zeros[groupIndex * m.rows + n]!, scale: m.scales[groupIndex * m.rows + n]! })),
    };
    return {
      dir, method: config.method, layout: config.layout, bits: config.bits, groupSize: config.groupSize, sym: config.sym,
      descAct: config.descAct, configFile: config.file, quantizationConfig: config.raw,
      files: model.files, layers, kept, group,
    };
  } finally {
    await ckpt.close();
  }
}
