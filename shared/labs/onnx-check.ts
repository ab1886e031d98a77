/** Lab 03's check that a compiled ONNX model reconstructs exactly like the tfjs model it came from. */
import { loadDetector } from '../detector/index';
import { farmWindows } from '../features/farm';
import { compareOnnxWithTfjs, type EquivalenceReport } from '../packaging/onnx/equivalence';
import { readFramesCsv } from '../turbine/index';

/**
 * Runs the first maxWindows windows of a data set file (features from the model's own statistics and
 * preprocessing) through the tfjs model in modelDir and through the ONNX bytes; the report says whether
 * the largest difference stays within the tolerance (default 1e-5).
 */
export async function compareOnnxWithModelDir(modelDir: string, onnx: Uint8Array, framesPath: string, maxWindows = 512): Promise<EquivalenceReport> {
  if (!Number.isInteger(maxWindows) || maxWindows < 1) throw new Error(`maxWindows must be a whole number of at least 1, got ${maxWindows}`);
  const detector = await loadDetector(modelDir);
  try {
    const all = farmWindows(readFramesCsv(framesPath), detector.stats, detector.params);
    if (all.count === 0) throw new Error(`${framesPath} is too short for one window`);
    const count = Math.min(all.count, maxWindows);
    return await compareOnnxWithTfjs(detector.model, onnx, all.windows.subarray(0, (all.windows.length / all.count) * count), count);
  } finally {
    detector.dispose();
  }
}
