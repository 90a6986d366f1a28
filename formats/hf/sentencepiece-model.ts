import { FormatError } from '../errors.ts';

/** SentencePiece piece types (sentencepiece_model.proto `SentencePiece.Type`). */
export enum SpPieceType { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 }

export interface SpPiece {
  piece: string;
  score: number;
  type: SpPieceType;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Read the pieces of a SentencePiece `tokenizer.model` (a protobuf `ModelProto`): field 1 is the
 * repeated `SentencePiece { 1: string piece; 2: float score; 3: Type type = NORMAL }`. Every other
 * field (trainer and normalizer specs) is skipped by wire type.
 */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SpPiece[] {
  const pieces: SpPiece[] = [];
  const r = new ProtoReader(bytes, file, 0, bytes.length);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const [start, end] = r.lengthDelimited();
      pieces.push(readPiece(new ProtoReader(bytes, file, start, end)));
    } else {
      r.skip(wire);
    }
  }
  if (pieces.length === 0) throw new FormatError('SENTENCEPIECE', 'no pieces found; not a SentencePiece model', { file, offset: 0 });
  return pieces;
}

function readPiece(r: ProtoReader): SpPiece {
  const at = r.pos;
  let piece: string | undefined;
  let score = 0;
  let type = SpPieceType.NORMAL;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) piece = r.string();
    else if (field === 2 && wire === 5) score = r.float32();
    else if (field === 3 && wire === 0) type = r.varint() as SpPieceType;
    else r.skip(wire);
  }
  if (piece === undefined) throw new FormatError('SENTENCEPIECE', 'piece without text', { file: r.file, offset: at });
  return { piece, score, type };
}

class ProtoReader {
  constructor(private readonly buf: Uint8Array, readonly file: string, public pos: number, private readonly end: number) {}

  done(): boolean {
    return this.pos >= this.end;
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  lengthDelimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw this.fail(`field of ${len} bytes runs past its message`);
    this.pos += len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.lengthDelimited();
    try {
      return decoder.decode(this.buf.subarray(s, e));
    } catch {
      throw new FormatError('SENTENCEPIECE', 'piece is not valid UTF-8', { file: this.file, offset: s });
    }
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw this.fail('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.lengthDelimited();
    else if (wire === 5) this.advance(4);
    else throw this.fail(`unsupported protobuf wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw this.fail('truncated field');
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.end) throw this.fail('truncated varint');
    return this.buf[this.pos++];
  }

  private fail(msg: string): FormatError {
    return new FormatError('SENTENCEPIECE', `${msg} at offset ${this.pos}`, { file: this.file, offset: this.pos });
  }
}
