/**
 * A trained detector in memory: the autoencoder plus what it was trained with. Scores batches of windows
 * (training, evaluation) and frames one by one (device) with the same thresholds and debouncing.
 */
import * as tf from '@tensorflow/tfjs';
import { StreamingFeaturePipeline } from '../features/streaming';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import type { RawFrame } from '../turbine/schema';
import { type DetectorDescription, readModelDir } from './model-dir';
import { modelFromFiles } from './model-io';
import { predictValues, reconstructionErrors, reconstructionErrorsOver } from './scoring';
import { AlarmDebouncer, type Thresholds } from './thresholds';
import { scoreWindow, windowEvidence } from './window-score';
import { CHANNELS, type WindowSet, WINDOW_SIZE } from './windows';

/** One scored window from the streaming scorer. */
export interface ScoredWindow {
  /** Index (among frames pushed) of the window's last frame, and its eventTime. */
  endIndex: number;
  endEventTime: string;
  /** Per-feature mean absolute reconstruction error. */
  errors: number[];
  /** Largest anomaly ratio over features: error / threshold or flatline / variation (> 1: anomalous). */
  score: number;
  /** Names of the features over their threshold (or flat below the stuck-sensor floor). */
  overThreshold: string[];
  /** Debounced alarm: this window completes a run of debounceWindows windows over threshold. */
  alarm: boolean;
  /** Frames pushed after the window's last frame before it could be scored (block latency). */
  latencyFrames: number;
}

/** Frame-by-frame scoring for ONE turbine (its own denoising blocks, window history and debouncer). */
export interface StreamingScorer {
  push(frame: RawFrame): ScoredWindow[];
  /** Frames used, frames rejected as bad, windows scored. */
  readonly counters: { accepted: number; rejected: number; windows: number };
}

export class Detector {
  readonly featureNames: string[];
  readonly thresholds: Thresholds;
  readonly originalThresholds: Thresholds;
  readonly zScoreThresholds: Thresholds;

  constructor(
    readonly model: tf.LayersModel,
    readonly description: DetectorDescription,
    readonly stats: FeatureStatistics,
    readonly params: PreprocessingParams,
  ) {
    this.featureNames = [...description.featureNames];
    this.thresholds = description.thresholds;
    this.originalThresholds = description.originalThresholds;
    this.zScoreThresholds = description.zScoreThresholds;
  }

  /**
   * Per-feature errors (count x 6, row-major) of windows shaped (count, 6, 10, 10), averaged over each
   * window's newest `errorSteps` steps (default: what the thresholds were fitted for).
   */
  scoreWindows(windows: WindowSet | Float32Array, errorSteps = this.thresholds.errorSteps): Float32Array {
    const set = windows instanceof Float32Array ? { windows, count: windows.length / WINDOW_SIZE } : windows;
    if (!Number.isInteger(set.count) || set.windows.length !== set.count * WINDOW_SIZE) {
      throw new Error(`scoreWindows: ${set.windows.length} values are not whole windows of ${WINDOW_SIZE} (6 x 10 x 10)`);
    }
    return reconstructionErrors(this.model, set, errorSteps);
  }

  /** Per-feature errors over each window's newest `spans[k]` steps, one array per span, from one reconstruction. */
  scoreWindowsOver(set: WindowSet, spans: readonly number[]): Float32Array[] {
    return reconstructionErrorsOver(this.model, set, spans);
  }

  /** The model's reconstruction of windows (same layout as the input), for plots. */
  reconstruct(windows: WindowSet): Float32Array {
    return predictValues(this.model, windows.windows, [windows.count, CHANNELS, 10, 10]).slice();
  }

  /** A frame-by-frame scorer for one turbine, using the model's preprocessing and thresholds. */
  createStreamingScorer(): StreamingScorer {
    const pipeline = new StreamingFeaturePipeline(this.stats, this.params);
    const debouncer = new AlarmDebouncer(this.thresholds.debounceWindows, this.thresholds.fast);
    return {
      counters: pipeline.counters,
      push: (frame: RawFrame): ScoredWindow[] => {
        const windows = pipeline.push(frame);
        if (windows.length === 0) return [];
        const batch = new Float32Array(windows.length * WINDOW_SIZE);
        windows.forEach((w, k) => batch.set(w.data, k * WINDOW_SIZE));
        const output = this.reconstruct({ windows: batch, count: windows.length });
        return windows.map((w, k) => {
          const evidence = windowEvidence(batch, output, k * WINDOW_SIZE, this.thresholds);
          const { ratios, score, fast } = scoreWindow(evidence, this.thresholds);
          const e = Array.from(evidence.errors);
          return {
            endIndex: w.endIndex,
            endEventTime: w.endEventTime,
            errors: e,
            score,
            overThreshold: this.featureNames.filter((_, f) => ratios[f] > 1),
            alarm: debouncer.push(score, fast),
            latencyFrames: w.latencyFrames,
          };
        });
      },
    };
  }

  /** Frees the model's tensors. */
  dispose(): void {
    this.model.dispose();
  }
}

/** Loads and verifies a model directory (every file, against its manifest) and returns the detector. */
export async function loadDetector(dir: string): Promise<Detector> {
  const read = readModelDir(dir);
  const model = await modelFromFiles(read.model, `model directory ${dir}`);
  const shape = model.inputs[0].shape;
  const expected = read.description.inputShape;
  if (shape.length !== 4 || shape.slice(1).some((v, i) => v !== expected[i + 1])) {
    model.dispose();
    throw new Error(`model directory ${dir}: model input shape (${shape.join(', ')}) differs from detector.json's (${expected.join(', ')})`);
  }
  return new Detector(model, read.description, read.stats, read.params);
}
