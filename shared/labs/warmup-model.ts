/**
 * Lab 00's model: the same pipeline, model registry, ONNX packaging and signing as the fleet's detector
 * (shared/fleet/trained-packages.ts), on a recipe small enough to train in seconds, so the warm-up tells
 * the whole story on a fresh clone in under two minutes. Lab 02 trains the full model.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/lab-config';
import { type ModelRecipe, type TrainedPackages, trainedFleetPackages } from '../fleet/trained-packages';

/**
 * 4 turbines x 10 min of normal data (2/3 of a turbine-hour, against the fleet's 16), 5 epochs on every
 * 2nd window. The thresholds keep the default false-alarm calibration on other simulated turbines: without
 * it, such a small model raised 40-50 false alarms per turbine-day on normal farms, with it none was seen
 * (shared/labs/README.md has the figures).
 */
export const WARMUP_RECIPE: Readonly<ModelRecipe> = Object.freeze({
  data: { turbines: 4, minutes: 10, seed: 42 },
  pipeline: { training: { epochs: 5 }, trainStride: 2 },
});

/** Where the warm-up model and its packages are cached. */
export const WARMUP_MODEL_CACHE = join(PROJECT_ROOT, '.state', 'warmup-model');

/** Trains (once) and packages the warm-up detector as 1.0.0 and 1.1.0; later calls read the cache. */
export function warmupPackages(progress: (line: string) => void = () => undefined, cacheDir: string = WARMUP_MODEL_CACHE): Promise<TrainedPackages> {
  return trainedFleetPackages(cacheDir, progress, WARMUP_RECIPE);
}
