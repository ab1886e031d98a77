/**
 * What the original workshop's device did, for comparison only: it collected 500 frames, denoised that
 * buffer on its own (threshold raw_std x sqrt(2 log2 500), level 5, approximation included), normalised
 * it with the training statistics and scored one window: steps 390..489 of the buffer (the last 110 steps
 * through range(0, 110 - 100, 10)). Training had denoised the whole series instead, so the same frames
 * gave different windows (training–serving skew), and the device scored one window per 25 s.
 */
import type { FrameColumns } from '../turbine/schema';
import type { BatchWindows } from './batch';
import { denoiseWholeSeries, normaliseToFloat32 } from './denoise';
import { FEATURE_COUNT } from './euler';
import { extractFeatures } from './extract';
import { ORIGINAL_PREPROCESSING, type PreprocessingParams } from './params';
import type { FeatureStatistics } from './statistics';
import { selectRows } from '../turbine/frames';

/** Frames the original device buffered before each detection. */
export const ORIGINAL_DEVICE_BUFFER = 500;

/** The original device's windows for consecutive 500-frame buffers of one turbine's frames. */
export function originalDeviceWindows(frames: FrameColumns, stats: FeatureStatistics, params: PreprocessingParams = ORIGINAL_PREPROCESSING): BatchWindows {
  const n = ORIGINAL_DEVICE_BUFFER;
  const L = params.windowLength;
  const tail = L + params.stride; // data[-(TIME_STEPS + STEP):]
  const count = Math.floor(frames.length / n);
  const windows = new Float32Array(count * FEATURE_COUNT * L);
  const startIndex = new Int32Array(count);
  const endIndex = new Int32Array(count);
  const rows = new Int32Array(n);
  const model = new Float32Array(n);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < n; i++) rows[i] = b * n + i;
    const denoised = denoiseWholeSeries(extractFeatures(selectRows(frames, rows)), stats.rawStd, params);
    const first = n - tail; // the single window of create_dataset over the last `tail` steps starts here
    for (let f = 0; f < FEATURE_COUNT; f++) {
      normaliseToFloat32(denoised[f], n, stats.mean[f], stats.std[f], model);
      windows.set(model.subarray(first, first + L), (b * FEATURE_COUNT + f) * L);
    }
    startIndex[b] = b * n + first;
    endIndex[b] = b * n + first + L - 1;
  }
  return { windows, count, startIndex, endIndex, rejectedFrames: 0 };
}
