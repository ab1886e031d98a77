/**
 * Scoring finished windows on the device: one engine call per batch of windows, the output checked (shape,
 * finite values), then every window through the detector's own kernel (shared/detector/window-score.ts):
 * the same errors, ratios, score and fast score as training and batch evaluation compute.
 */
import { performance } from 'node:perf_hooks';
import { scoreWindow, type WindowEvidence, windowEvidence } from '../detector/window-score';
import { type LoadedModel, windowShape } from './model-manager';

/** A finished window waiting to be scored: model input, the pipeline's index of its last frame, its time. */
export interface PendingWindow {
  data: Float32Array;
  /** Index of the window's last frame among the frames its pipeline was given. */
  endLocal: number;
  endEventTime: string;
}

/** What the kernel made of one window. */
export interface WindowResult {
  evidence: WindowEvidence;
  ratios: number[];
  score: number;
  fast: number;
  /** The model's reconstruction of the window. */
  output: Float32Array;
}

/** Results of one batch, and how long the engine took (ms). */
export interface BatchResult {
  windows: WindowResult[];
  latencyMs: number;
  /** The batch's model input, windows one after another. */
  input: Float32Array;
}

/** Runs windows through model's engine and the kernel; throws when inference fails or its output is not usable. */
export async function scoreBatch(model: LoadedModel, windows: readonly PendingWindow[]): Promise<BatchResult> {
  const d = model.description;
  const tail = windowShape(d);
  const size = tail.reduce((a, b) => a * b, 1);
  const n = windows.length;
  const input = new Float32Array(n * size);
  windows.forEach((w, k) => input.set(w.data, k * size));
  const shape = [n, ...tail];
  const t0 = performance.now();
  const out = await model.engine.run(input, shape);
  const latencyMs = performance.now() - t0;
  if (out.dims.length !== shape.length || out.dims.some((v, i) => v !== shape[i])) {
    throw new Error(`model output shape (${out.dims.join(', ')}) is not its input shape (${shape.join(', ')})`);
  }
  for (let i = 0; i < out.data.length; i++) if (!Number.isFinite(out.data[i])) throw new Error(`model output holds ${out.data[i]} at value ${i}`);
  return {
    latencyMs,
    input,
    windows: windows.map((_, k) => {
      const evidence = windowEvidence(input, out.data, k * size, d.thresholds);
      return { evidence, ...scoreWindow(evidence, d.thresholds), output: out.data.subarray(k * size, (k + 1) * size) };
    }),
  };
}
