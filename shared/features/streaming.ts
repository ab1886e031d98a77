/**
 * Streaming feature pipeline (device): frames arrive one at a time; windows come out as soon as the
 * denoising block holding their last step is complete. Same arithmetic as batchWindows, so for the same
 * frames both produce bit-identical windows (tested).
 *
 * Bad frames (a feature input missing, not a number, or not finite) are counted and skipped: the stream
 * continues as if the frame had never arrived, exactly as batchWindows drops such rows. Window indexes
 * still count every frame pushed, so they match batchWindows' frame indexes.
 */
import type { RawFrame } from '../turbine/schema';
import { BlockDenoiser, normaliseToFloat32 } from './denoise';
import { FEATURE_COUNT, pitchOf, rollOf, yawOf } from './euler';
import { FEATURE_INPUT_COLUMNS } from './extract';
import { DEFAULT_PREPROCESSING, type PreprocessingParams, validatePreprocessingParams } from './params';
import { type FeatureStatistics, validateFeatureStatistics } from './statistics';

/** One model input: 6 x windowLength float32 values, (6, side, side) row-major. */
export interface FeatureWindow {
  data: Float32Array;
  /** Index (among all frames pushed, rejected ones included) of the window's first and last frame. */
  startIndex: number;
  endIndex: number;
  /** eventTime of the window's last frame. */
  endEventTime: string;
  /** Frames pushed since the window's last frame (the block latency; at most blockLength - 1 valid ones). */
  latencyFrames: number;
}

export interface StreamingCounters {
  /** Frames used. */
  accepted: number;
  /** Frames skipped as bad. */
  rejected: number;
  /** Windows emitted. */
  windows: number;
}

/** Frame-by-frame preprocessing with a bounded buffer (one block plus one window of history). */
export class StreamingFeaturePipeline {
  readonly counters: StreamingCounters = { accepted: 0, rejected: 0, windows: 0 };
  /** Why the most recent bad frame was rejected (for logs). */
  lastRejection: string | null = null;

  private readonly params: PreprocessingParams;
  private readonly denoiser: BlockDenoiser;
  private readonly mean: number[];
  private readonly std: number[];
  // The block being filled: raw features, their frame indexes and times.
  private readonly block: Float64Array[];
  private readonly blockIndex: Int32Array;
  private readonly blockTime: string[];
  private blockFill = 0;
  // Ring of the last `ring` model-ready (normalised float32) steps: enough for a window ending at any
  // step of the latest block.
  private readonly ring: number;
  private readonly history: Float32Array[];
  private readonly historyIndex: Int32Array;
  private readonly historyTime: string[];
  /** Normalised steps produced so far (position of the next one). */
  private steps = 0;
  /** Frames pushed so far, bad ones included. */
  private pushed = 0;
  private readonly denoised: Float64Array;
  private readonly normalised: Float32Array;

  constructor(stats: FeatureStatistics, params: PreprocessingParams = DEFAULT_PREPROCESSING) {
    validatePreprocessingParams(params);
    if (params.scheme !== 'block') {
      throw new Error(`StreamingFeaturePipeline runs the "block" scheme only; the "${params.scheme}" scheme denoises a whole series at once (use batchWindows)`);
    }
    validateFeatureStatistics(stats, params);
    this.params = { ...params };
    this.denoiser = new BlockDenoiser(this.params, stats.noiseSigma as number[]);
    this.mean = [...stats.mean];
    this.std = [...stats.std];
    const B = params.blockLength;
    const L = params.windowLength;
    this.block = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(B));
    this.blockIndex = new Int32Array(B);
    this.blockTime = new Array<string>(B).fill('');
    this.ring = L + B;
    this.history = Array.from({ length: FEATURE_COUNT }, () => new Float32Array(this.ring));
    this.historyIndex = new Int32Array(this.ring);
    this.historyTime = new Array<string>(this.ring).fill('');
    this.denoised = new Float64Array(B);
    this.normalised = new Float32Array(B);
  }

  /** Frames held in memory at most: one block being filled plus the window history. */
  get capacity(): number {
    return this.params.blockLength + this.ring;
  }

  /** Adds one frame; returns the windows it completed (usually none, every stride-th block step some). */
  push(frame: RawFrame): FeatureWindow[] {
    const index = this.pushed++;
    const problem = frameProblem(frame);
    if (problem) {
      this.counters.rejected++;
      this.lastRejection = `frame ${index}: ${problem}`;
      return [];
    }
    this.counters.accepted++;
    const k = this.blockFill++;
    const { qx, qy, qz, qw } = frame;
    this.block[0][k] = rollOf(qx, qy, qz, qw);
    this.block[1][k] = pitchOf(qx, qy, qz, qw);
    this.block[2][k] = yawOf(qx, qy, qz, qw);
    this.block[3][k] = frame.wind_speed_rps;
    this.block[4][k] = frame.rps;
    this.block[5][k] = frame.voltage;
    this.blockIndex[k] = index;
    this.blockTime[k] = typeof frame.eventTime === 'string' ? frame.eventTime : '';
    return this.blockFill === this.params.blockLength ? this.completeBlock() : [];
  }

  /** Forgets buffered frames (e.g. after a long gap) without touching the counters; blocks realign. */
  reset(): void {
    this.blockFill = 0;
    this.steps = 0;
  }

  private completeBlock(): FeatureWindow[] {
    const B = this.params.blockLength;
    const L = this.params.windowLength;
    const S = this.params.stride;
    const first = this.steps;
    for (let f = 0; f < FEATURE_COUNT; f++) {
      this.denoiser.denoiseBlock(f, this.block[f], 0, this.denoised, 0);
      normaliseToFloat32(this.denoised, B, this.mean[f], this.std[f], this.normalised);
      const history = this.history[f];
      for (let k = 0; k < B; k++) history[(first + k) % this.ring] = this.normalised[k];
    }
    for (let k = 0; k < B; k++) {
      const slot = (first + k) % this.ring;
      this.historyIndex[slot] = this.blockIndex[k];
      this.historyTime[slot] = this.blockTime[k];
    }
    this.steps += B;
    this.blockFill = 0;
    // Windows start at 0, S, 2S, ... over the denoised steps; emit those ending inside this block.
    const out: FeatureWindow[] = [];
    const firstEnd = Math.max(first, L - 1);
    let start = Math.ceil((firstEnd - (L - 1)) / S) * S;
    for (; start + L - 1 < this.steps; start += S) out.push(this.emit(start));
    this.counters.windows += out.length;
    return out;
  }

  private emit(start: number): FeatureWindow {
    const L = this.params.windowLength;
    const data = new Float32Array(FEATURE_COUNT * L);
    const from = start % this.ring;
    const firstPart = Math.min(L, this.ring - from); // the window may wrap around the ring's end
    for (let f = 0; f < FEATURE_COUNT; f++) {
      data.set(this.history[f].subarray(from, from + firstPart), f * L);
      if (firstPart < L) data.set(this.history[f].subarray(0, L - firstPart), f * L + firstPart);
    }
    const endSlot = (start + L - 1) % this.ring;
    const endIndex = this.historyIndex[endSlot];
    return {
      data,
      startIndex: this.historyIndex[start % this.ring],
      endIndex,
      endEventTime: this.historyTime[endSlot],
      latencyFrames: this.pushed - 1 - endIndex,
    };
  }
}

/** Why a frame cannot be used, or null when all feature inputs are finite numbers. */
export function frameProblem(frame: unknown): string | null {
  if (typeof frame !== 'object' || frame === null) return 'not an object';
  const record = frame as Record<string, unknown>;
  for (const column of FEATURE_INPUT_COLUMNS) {
    const value = record[column];
    if (value === undefined) return `missing field "${column}"`;
    if (typeof value !== 'number') return `field "${column}" is not a number (${JSON.stringify(value)})`;
    if (!Number.isFinite(value)) return `field "${column}" is ${value}`;
  }
  return null;
}
