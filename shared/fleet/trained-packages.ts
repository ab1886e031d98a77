/**
 * Test and bench support: a REAL detector (shared/detector's training pipeline on simulated normal data)
 * packaged and signed twice, as 1.0.0 and 1.1.0, so the fleet can start on one and roll out the other.
 * What is trained is a recipe: by default FLEET_RECIPE (the default training data, 16 simulated
 * turbine-hours, seed 42, default settings); Lab 00 passes a small warm-up recipe (shared/labs/warmup-model.ts).
 * The farm data, the model and the packages are cached in a folder (default .state/fleet-model): the first
 * call trains (about a minute of CPU on an idle machine for the fleet recipe, see shared/detector/README.md),
 * later calls with the same recipe reuse the files in milliseconds.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TRAINING_DATA, formatPipelineEvent, LocalDirectoryRegistry, type PipelineOptions, runTrainingPipeline } from '../detector';
import { loadOrCreateSigningKey } from '../packaging/signing-key';
import { packageModel } from '../packaging/package-model';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';

/** Versions the helper packages. */
export const FLEET_TEST_VERSIONS = ['1.0.0', '1.1.0'] as const;
export const FLEET_TEST_MODEL_NAME = 'wind-turbine-anomaly';

/** What to train: the simulated normal data and the pipeline settings that differ from the defaults. */
export interface ModelRecipe {
  data: { turbines: number; minutes: number; seed: number };
  pipeline?: Pick<PipelineOptions, 'training' | 'trainStride' | 'budget' | 'falseAlarmTarget'>;
}

/** The fleet's detector: the default training data and every default pipeline setting. */
export const FLEET_RECIPE: Readonly<ModelRecipe> = Object.freeze({ data: DEFAULT_TRAINING_DATA });

/** The packages, the signer's public key and what making them cost. */
export interface TrainedPackages {
  packages: Record<(typeof FLEET_TEST_VERSIONS)[number], string>;
  publicKeyPem: string;
  /** The registered model directory the packages were made from (detector.json: statistics, thresholds, training). */
  modelDir: string;
  /** False when everything came from the cache. */
  trained: boolean;
  seconds: number;
}

/** Default cache folder. */
export const FLEET_MODEL_CACHE = join(__dirname, '..', '..', '.state', 'fleet-model');

/** Trains (once per recipe) and packages a detector; see the file comment. */
export async function trainedFleetPackages(cacheDir: string = FLEET_MODEL_CACHE, progress: (line: string) => void = () => undefined, recipe: ModelRecipe = FLEET_RECIPE): Promise<TrainedPackages> {
  const t0 = performance.now();
  mkdirSync(cacheDir, { recursive: true });
  const key = loadOrCreateSigningKey(join(cacheDir, 'signing'));
  const packages = Object.fromEntries(FLEET_TEST_VERSIONS.map((v) => [v, join(cacheDir, `${FLEET_TEST_MODEL_NAME}-${v}.tar.gz`)])) as TrainedPackages['packages'];
  const modelDir = join(cacheDir, 'model');
  // A cache made by another recipe is not this model: train again (the pipeline's step cache keeps what
  // still applies). Caches from before recipes existed hold the fleet recipe.
  const recipePath = join(cacheDir, 'recipe.json');
  const recipeJson = JSON.stringify(recipe);
  const cachedRecipe = existsSync(recipePath) ? readFileSync(recipePath, 'utf8') : JSON.stringify(FLEET_RECIPE);
  if (existsSync(modelDir) && cachedRecipe !== recipeJson) {
    for (const p of [modelDir, ...Object.values(packages)]) rmSync(p, { recursive: true, force: true });
  }
  let trained = false;
  if (!Object.values(packages).every((p) => existsSync(p))) {
    if (!existsSync(join(modelDir, 'manifest.json'))) {
      const { turbines, minutes, seed } = recipe.data;
      const data = join(cacheDir, `normal-${turbines}x${minutes}min-seed${seed}.csv.gz`);
      if (!existsSync(data)) {
        progress(`simulating ${turbines} turbines x ${minutes} min of normal operation`);
        await writeFramesCsv(simulateFarm({ ...recipe.data, faults: false }).frames, data);
      }
      progress(`training the detector (shared/detector pipeline, ${recipe.pipeline ? 'warm-up settings' : 'default settings'})`);
      // The pipeline's steps and epochs, indented under the stage line: training is most of the wait.
      const onEvent: PipelineOptions['onEvent'] = (e) => {
        const line = formatPipelineEvent(e);
        if (line) progress(`  ${line}`);
      };
      await runTrainingPipeline({ ...recipe.pipeline, dataPath: data, cacheDir: join(cacheDir, 'cache'), registry: new LocalDirectoryRegistry(modelDir), seed, onEvent });
      writeFileSync(recipePath, recipeJson);
      trained = true;
    }
    for (const version of FLEET_TEST_VERSIONS) {
      progress(`packaging ${FLEET_TEST_MODEL_NAME} ${version}`);
      await packageModel({ modelDir, name: FLEET_TEST_MODEL_NAME, version, out: packages[version], key, createdAt: new Date('2026-01-01T00:00:00Z') });
    }
  }
  return { packages, publicKeyPem: key.publicKeyPem, modelDir, trained, seconds: (performance.now() - t0) / 1000 };
}
