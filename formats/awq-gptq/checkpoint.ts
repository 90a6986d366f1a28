/**
 * Reading an AWQ (GEMM) or GPTQ (v1/v2) checkpoint folder: its quantization config, the packed
 * layers with their shapes checked against each other, and each layer unpacked into codes,
 * zeros, scales and g_idx (a `QuantizedMatrix`) on demand — one layer in memory at a time.
 */
import { join } from 'node:path';
import { ForgeError, FormatError } from '../errors.ts';
import { openSafetensorsModel, type SafetensorsModel } from '../safetensors/model.ts';
import { toFloat32 } from '../safetensors/dtypes.ts';
import type { SafetensorsTensor } from '../safetensors/header.ts';
import { parseQuantizationConfig, type QuantizedFolderConfig } from './config.ts';
import { readJsonFile } from '../hf/read-json.ts';
import { packedModules } from './layer-names.ts';
import type { GroupBits, QuantizedMatrix } from '../../kernels/groupwise/spec.ts';
import { groupCount } from '../../kernels/groupwise/spec.ts';
import { unpackAwqGemm } from '../../kernels/groupwise/awq-gemm.ts';
import { gemvZerosWidth, unpackAwqGemv } from '../../kernels/groupwise/awq-gemv.ts';
import { unpackGptq } from '../../kernels/groupwise/gptq.ts';
import { streamWords } from '../../kernels/groupwise/bitstream.ts';

export interface PackedLayerInfo {
  module: string;
  inFeatures: number;
  outFeatures: number;
  bits: number;
  groupSize: number;
  groups: number;
  layout: QuantizedFolderConfig['layout'];
  /** GPTQ: g_idx is not k // group_size (act-order). Known after `readLayer`; null before. */
  actOrder: boolean | null;
  hasBias: boolean;
}

export interface QuantizedCheckpoint {
  dir: string;
  config: QuantizedFolderConfig;
  hfConfig: Record<string, unknown>;
  model: SafetensorsModel;
  layers: PackedLayerInfo[];
  readLayer(module: string): Promise<QuantizedMatrix>;
  close(): Promise<void>;
}

/** Find the quantization dict: config.json, then quantize_config.json, then quant_config.json. */
export async function readQuantizedFolderConfig(dir: string): Promise<{ config: QuantizedFolderConfig | null; hfConfig: Record<string, unknown> }> {
  const cfgPath = join(dir, 'config.json');
  const hfConfig = (await readJsonFile(dir, 'config.json', true)) ?? {};
  const fromConfig = parseQuantizationConfig(hfConfig.quantization_config, cfgPath);
  if (fromConfig) return { config: fromConfig, hfConfig };
  for (const name of ['quantize_config.json', 'quant_config.json']) {
    const p = join(dir, name);
    const q = await readJsonFile(dir, name, true);
    const parsed = q && parseQuantizationConfig({ quant_method: q.version !== undefined ? 'awq' : 'gptq', ...q }, p);
    if (parsed) return { config: parsed, hfConfig };
  }
  return { config: null, hfConfig };
}

/**
 * True when `dir` declares an AWQ/GPTQ quantization — also when that declaration is malformed or
 * a layout we do not read, so that opening it reports the precise error instead of the folder
 * being mistaken for an unquantized model. False when there is no config to read.
 */
export async function isQuantizedFolder(dir: string): Promise<boolean> {
  try {
    return (await readQuantizedFolderConfig(dir)).config !== null;
  } catch (err) {
    return err instanceof ForgeError && (err.kind === 'unsupported' || (err.kind === 'format' && err.code === 'QUANT_CONFIG'));
  }
}

export async function openQuantizedCheckpoint(dir: string): Promise<QuantizedCheckpoint> {
  const { config, hfConfig } = await readQuantizedFolderConfig(dir);
  if (!config) throw new FormatError('QUANT_CONFIG', 'no AWQ/GPTQ quantization_config in config.json, quantize_config.json or quant_config.json', { file: dir });
  const model = await openSafetensorsModel(dir);
  try {
    const layers = packedModules(model.tensors.keys()).map((m) => describeLayer(model, config, m));
    if (layers.length === 0) throw new FormatError('QUANT_NO_LAYERS', 'no packed layers (no *.qweight tensors)', { file: dir });
    const byModule = new Map(layers.map((l) => [l.module, l]));
    return {
      dir, config, hfConfig, model, layers,
      readLayer: async (module) => {
        const info = byModule.get(module);
        if (!info) throw new FormatError('QUANT_NO_LAYER', `no packed layer '${module}'`, { file: dir, tensor: module });
        const m = await readLayer(model, config, info);
        info.actOrder = m.gIdx.some((g, k) => g !== (config.groupSize === -1 ? 0 : Math.floor(k / config.groupSize)));
        return m;
      },
      close: () => model.close(),
    };
  } catch (err) {
    await model.close();
    throw err;
  }
}

function need(model: SafetensorsModel, name: string, dtypes: string[], rank: number): SafetensorsTensor {
  const t = model.tensors.get(name);
  if (!t) throw new FormatError('QUANT_MISSING', `packed layer lacks tensor '${name}'`, { file: model.dir, tensor: name });
  if (!dtypes.includes(t.dtype)) throw new FormatError('QUANT_DTYPE', `tensor '${name}' has dtype ${t.dtype}, expected ${dtypes.join(' or ')}`, { file: t.file, tensor: name });
  if (t.shape.length !== rank) throw new FormatError('QUANT_SHAPE', `tensor '${name}' has shape ${JSON.stringify(t.shape)}, expected rank ${rank}`, { file: t.file, tensor: name });
  return t;
}

function shapeError(t: SafetensorsTensor, expected: number[]): FormatError {
  return new FormatError('QUANT_SHAPE', `tensor '${t.name}' has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(expected)}`, { file: t.file, tensor: t.name });
}

const FLOATS = ['F16', 'BF16', 'F32'];

function describeLayer(model: SafetensorsModel, cfg: QuantizedFolderConfig, module: string): PackedLayerInfo {
  const qweight = need(model, `${module}.qweight`, ['I32'], 2);
  const scales = need(model, `${module}.scales`, FLOATS, 2);
  const qzeros = need(model, `${module}.qzeros`, ['I32'], 2);
  const bits = cfg.bits;
  let inF: number, out: number;
  if (cfg.layout === 'gemv') return describeGemv(module, cfg, qweight, qzeros, scales, model.tensors.has(`${module}.bias`));
  if (cfg.method === 'awq') {
    [inF, out] = [qweight.shape[0]!, scales.shape[1]!];
    if (qweight.shape[1]! * 8 !== out) throw shapeError(qweight, [inF, out / 8]);
  } else {
    out = qweight.shape[1]!;
    const gIdx = model.tensors.get(`${module}.g_idx`);
    inF = gIdx ? gIdx.shape[0]! : (qweight.shape[0]! * 32) / bits;
    if (qweight.shape[0] !== streamWords(inF, bits)) throw shapeError(qweight, [streamWords(inF, bits), out]);
  }
  const groups = scales.shape[0]!;
  if (scales.shape[1] !== out) throw shapeError(scales, [groups, out]);
  if (groups !== groupCount(cfg.groupSize, inF)) {
    throw new FormatError('QUANT_SHAPE', `tensor '${scales.name}' has ${groups} groups but in_features ${inF} with group_size ${cfg.groupSize} gives ${groupCount(cfg.groupSize, inF)}`, { file: scales.file, tensor: scales.name });
  }
  const zw = cfg.method === 'awq' ? out / 8 : streamWords(out, bits);
  if (qzeros.shape[0] !== groups || qzeros.shape[1] !== zw) throw shapeError(qzeros, [groups, zw]);
  return {
    module, inFeatures: inF, outFeatures: out, bits, groupSize: cfg.groupSize, groups, layout: cfg.layout,
    actOrder: null, hasBias: model.tensors.has(`${module}.bias`),
  };
}

/** GEMV: qweight [out, in/8], qzeros [out, zw], scales [out, zw*8] (reference §1.2). */
function describeGemv(module: string, cfg: QuantizedFolderConfig, qweight: SafetensorsTensor, qzeros: SafetensorsTensor, scales: SafetensorsTensor, hasBias: boolean): PackedLayerInfo {
  const [out, inF] = [qweight.shape[0]!, qweight.shape[1]! * 8];
  let zw: number;
  try {
    zw = gemvZerosWidth(inF, cfg.groupSize);
  } catch (err) {
    throw new FormatError('QUANT_CONFIG', (err as Error).message, { file: cfg.file });
  }
  if (inF % cfg.groupSize !== 0) throw new FormatError('QUANT_SHAPE', `in_features ${inF} of '${module}' is not a multiple of group_size ${cfg.groupSize}`, { file: qweight.file, tensor: qweight.name });
  if (qzeros.shape[0] !== out || qzeros.shape[1] !== zw) throw shapeError(qzeros, [out, zw]);
  if (scales.shape[0] !== out || scales.shape[1] !== zw * 8) throw shapeError(scales, [out, zw * 8]);
  return { module, inFeatures: inF, outFeatures: out, bits: 4, groupSize: cfg.groupSize, groups: inF / cfg.groupSize, layout: 'gemv', actOrder: false, hasBias };
}

async function int32(model: SafetensorsModel, name: string): Promise<Int32Array> {
  const bytes = await model.readTensor(name);
  return new Int32Array(bytes.slice().buffer); // copy: the read buffer need not be 4-aligned
}

async function readLayer(model: SafetensorsModel, cfg: QuantizedFolderConfig, l: PackedLayerInfo): Promise<QuantizedMatrix> {
  const scalesT = model.tensors.get(`${l.module}.scales`)!;
  const scales = toFloat32(scalesT.dtype, await model.readTensor(scalesT.name));
  const qweight = await int32(model, `${l.module}.qweight`);
  const qzeros = await int32(model, `${l.module}.qzeros`);
  if (cfg.layout === 'gemv') return unpackAwqGemv({ qweight, qzeros, scales }, l.outFeatures, l.inFeatures, l.groupSize);
  if (cfg.method === 'awq') return unpackAwqGemm({ qweight, qzeros, scales }, l.outFeatures, l.inFeatures, l.groupSize);
  const gName = `${l.module}.g_idx`;
  let gIdx: Int32Array;
  if (model.tensors.has(gName)) {
    need(model, gName, ['I32'], 1);
    gIdx = await int32(model, gName);
    for (let k = 0; k < gIdx.length; k++) {
      if (gIdx[k]! < 0 || gIdx[k]! >= l.groups) {
        throw new FormatError('QUANT_G_IDX', `tensor '${gName}' entry ${k} is ${gIdx[k]}, outside 0..${l.groups - 1}`, { file: model.tensors.get(gName)!.file, tensor: gName });
      }
    }
  } else {
    gIdx = Int32Array.from({ length: l.inFeatures }, (_, k) => (l.groupSize === -1 ? 0 : Math.floor(k / l.groupSize)));
  }
  return unpackGptq({ qweight, qzeros, scales, gIdx }, l.outFeatures, l.inFeatures, l.bits as GroupBits, l.groupSize, cfg.layout === 'gptq_v2' ? 'gptq_v2' : 'gptq');
}
