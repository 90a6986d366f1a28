/** Types of metrics.mjs (plain JS so the pool workers can measure without a TypeScript loader). */
export interface ErrorMetrics {
  /** Finite pairs compared. */
  count: number;
  /** sqrt(Σ(Ŵ−W)² / count). */
  rmse: number;
  /** max |Ŵ−W|. */
  maxAbs: number;
  /** Σ|Ŵ−W| / count. */
  meanAbs: number;
  /** ‖Ŵ−W‖ / ‖W‖ (Frobenius norms); 0 when both are 0, Infinity when only ‖W‖ is. */
  relFrobenius: number;
  /** 10·log10(ΣW² / Σ(Ŵ−W)²); Infinity for an exact round trip. */
  snrDb: number;
  /** ΣWŴ / (‖W‖·‖Ŵ‖); 1 when both are all zero, 0 when only one is. */
  cosine: number;
  /** Pairs skipped because W or Ŵ was NaN or ±Inf. */
  nonFinite: number;
  /** llama.cpp's test metric (tests/test-quantize-fns.cpp `array_rmse`): sqrt(Σd²) / count. */
  ggml_rmse: number;
}

/** An accumulator's state: a RoundTripMetrics, or its structured clone from a worker. */
export interface MetricsState {
  count: number;
  nonFinite: number;
  maxAbs: number;
  sqErr: { sum: number; comp: number };
  absErr: { sum: number; comp: number };
  sqOrig: { sum: number; comp: number };
  sqApprox: { sum: number; comp: number };
  dot: { sum: number; comp: number };
}

/** The accumulator's fields are its state (merged into the class below). */
export interface RoundTripMetrics extends MetricsState {}

export declare class RoundTripMetrics {  /** Adds the pairs orig[i], approx[i] for i in [start, end) (default: the whole arrays). */
  add(orig: Float32Array, approx: Float32Array, start?: number, end?: number): void;
  /** The accumulator the wasm kernel roundTripAccumulate left at its 13 float64 (sum and compensation of the 5 sums, max|d|, count, skipped): same result as add(). */
  static fromState(state: Float64Array): RoundTripMetrics;
  /** Folds another accumulator (or a worker's structured clone of one) into this one. */
  merge(other: MetricsState): void;
  result(): ErrorMetrics;
}

/** Metrics of one pair of arrays in a single call. */
export declare function roundTripMetrics(orig: Float32Array, approx: Float32Array): ErrorMetrics;
