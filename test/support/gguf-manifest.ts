/**
 * A GGUF file as a manifest in the format of the family fixtures' expected-*.json
 * (samples/families/<family>/): every KV in file order with its GGUF type name and value (arrays of
 * more than 64 items as count, sha256 of their stored bytes, first 8 items and a short hash per 256),
 * every tensor's ggml type name, ne and data sha256, and the whole file's sha256 and size. Parsed
 * here from the raw bytes on purpose, independently of formats/gguf/reader.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const VALUE_TYPES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];
/** ggml type id → [name, block elements, block bytes], for the types our outputs hold. */
const GGML: Record<number, [string, number, number]> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22], 7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110], 12: ['Q4_K', 256, 144], 13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210], 20: ['IQ4_NL', 32, 18], 23: ['IQ4_XS', 256, 136], 30: ['BF16', 1, 2],
};

export interface Manifest {
  header: { version: number; n_tensors: number; n_kv: number; alignment: number; data_offset: number };
  kv: [string, string, unknown][];
  tensors: [string, string, number[], string][];
  file_sha256: string;
  file_bytes: number;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function ggufManifest(path: string): Manifest {
  const buf = readFileSync(path);
  let o = 0;
  const u32 = () => { const v = buf.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(buf.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const n = u64(); const s = buf.toString('utf8', o, o + n); o += n; return s; };
  const scalar = (t: number): unknown => {
    switch (t) {
      case 0: return buf.readUInt8(o++);
      case 1: return buf.readInt8(o++);
      case 2: { const v = buf.readUInt16LE(o); o += 2; return v; }
      case 3: { const v = buf.readInt16LE(o); o += 2; return v; }
      case 4: return u32();
      case 5: { const v = buf.readInt32LE(o); o += 4; return v; }
      case 6: { const v = buf.readFloatLE(o); o += 4; return v; }
      case 7: return buf.readUInt8(o++) !== 0;
      case 8: return str();
      case 10: return u64();
      case 11: { const v = Number(buf.readBigInt64LE(o)); o += 8; return v; }
      case 12: { const v = buf.readDoubleLE(o); o += 8; return v; }
      default: throw new Error(`${path}: bad GGUF value type ${t} at byte ${o}`);
    }
  };
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${path}: not a GGUF file`);
  o = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kv: Manifest['kv'] = [];
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const t = u32();
    if (t !== 9) {
      const v = scalar(t);
      if (key === 'general.alignment') alignment = Number(v);
      kv.push([key, VALUE_TYPES[t]!, v]);
      continue;
    }
    const et = u32();
    const n = u64();
    const start = o;
    const items: unknown[] = [];
    const cuts: number[] = [];
    for (let j = 0; j < n; j++) { if (j % 256 === 0) cuts.push(o); items.push(scalar(et)); }
    cuts.push(o);
    const type = `ARRAY[${VALUE_TYPES[et]}]`;
    if (n <= 64) kv.push([key, type, items]);
    else {
      const chunks256 = cuts.slice(0, -1).map((c, k) => sha(buf.subarray(c, cuts[k + 1])).slice(0, 16));
      kv.push([key, type, { count: n, sha256: sha(buf.subarray(start, o)), first: items.slice(0, 8), chunks256 }]);
    }
  }
  const infos: { name: string; ne: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne = Array.from({ length: nd }, () => u64());
    const type = u32();
    infos.push({ name, ne, type, offset: u64() });
  }
  const dataOffset = Math.ceil(o / alignment) * alignment;
  const tensors: Manifest['tensors'] = infos.map((t) => {
    const [name, block, bytes] = GGML[t.type] ?? [`type ${t.type}`, 1, 0];
    const size = (t.ne.reduce((a, b) => a * b, 1) / block) * bytes;
    const start = dataOffset + t.offset;
    return [t.name, name, t.ne, sha(buf.subarray(start, start + size))];
  });
  return {
    header: { version, n_tensors: nTensors, n_kv: nKv, alignment, data_offset: dataOffset },
    kv, tensors, file_sha256: sha(buf), file_bytes: buf.length,
  };
}
