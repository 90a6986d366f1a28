/** The eval figures a job summary carries (convert --eval, batch eval: true), and their report line. No heavy imports: the CLI loads it at start. */

/** The figures a report shows beside the per-tensor weight error. */
export interface EvalFigures {
  text: string;
  ctx: number;
  chunks: number;
  ppl: number;
  pplError: number;
  refPpl: number;
  pplRatio: number;
  klMean: number;
  klError: number;
  klMedian: number;
  klP99: number;
  klMax: number;
  /** Top-1 agreement, a fraction. */
  sameTop: number;
  /** RMS of Δp of the correct token, a fraction. */
  rmsDeltaP: number;
}

/** One line for reports: `PPL 3.93 vs 3.57 (×1.103), KL 0.068 (p99 0.39), same top 86.5%`. */
export function evalFiguresLine(e: EvalFigures): string {
  return `eval (${e.chunks} chunks of ${e.ctx}): PPL ${e.ppl.toFixed(4)} ± ${e.pplError.toFixed(4)} vs source ${e.refPpl.toFixed(4)} (ratio ${e.pplRatio.toFixed(4)}), ` +
    `KL mean ${e.klMean.toFixed(5)} ± ${e.klError.toFixed(5)}, median ${e.klMedian.toFixed(5)}, p99 ${e.klP99.toFixed(5)}, max ${e.klMax.toFixed(5)}, ` +
    `same top ${(100 * e.sameTop).toFixed(2)}%, RMS Δp ${(100 * e.rmsDeltaP).toFixed(3)}%`;
}
