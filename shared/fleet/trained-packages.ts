/**
 * Test and bench support: a REAL detector (shared/detector's training pipeline on the default training
 * data, 16 simulated turbine-hours, seed 42) packaged and signed twice, as 1.0.0 and 1.1.0, so the fleet
 * can start on one and roll out the other. The farm data, the model and the packages are cached in a
 * folder (default .state/fleet-model): the first call trains (about a minute of CPU on an idle machine,
 * see shared/detector/README.md), later calls reuse the files in milliseconds.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TRAINING_DATA, LocalDirectoryRegistry, runTrainingPipeline } from '../detector/pipeline';
import { loadOrCreateSigningKey } from '../packaging/signing-key';
import { packageModel } from '../packaging/package-model';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';

/** Versions the helper packages. */
export const FLEET_TEST_VERSIONS = ['1.0.0', '1.1.0'] as const;
export const FLEET_TEST_MODEL_NAME = 'wind-turbine-anomaly';

/** The packages, the signer's public key and what making them cost. */
export interface TrainedPackages {
  packages: Record<(typeof FLEET_TEST_VERSIONS)[number], string>;
  publicKeyPem: string;
  /** False when everything came from the cache. */
  trained: boolean;
  seconds: number;
}

/** Default cache folder. */
export const FLEET_MODEL_CACHE = join(__dirname, '..', '..', '.state', 'fleet-model');

/** Trains (once) and packages the fleet's test detector; see the file comment. */
export async function trainedFleetPackages(cacheDir: string = FLEET_MODEL_CACHE, progress: (line: string) => void = () => undefined): Promise<TrainedPackages> {
  const t0 = performance.now();
  mkdirSync(cacheDir, { recursive: true });
  const key = loadOrCreateSigningKey(join(cacheDir, 'signing'));
  const packages = Object.fromEntries(FLEET_TEST_VERSIONS.map((v) => [v, join(cacheDir, `${FLEET_TEST_MODEL_NAME}-${v}.tar.gz`)])) as TrainedPackages['packages'];
  const modelDir = join(cacheDir, 'model');
  let trained = false;
  if (!Object.values(packages).every((p) => existsSync(p))) {
    if (!existsSync(join(modelDir, 'manifest.json'))) {
      const data = join(cacheDir, `normal-${DEFAULT_TRAINING_DATA.turbines}x${DEFAULT_TRAINING_DATA.minutes}min-seed${DEFAULT_TRAINING_DATA.seed}.csv.gz`);
      if (!existsSync(data)) {
        progress(`simulating ${DEFAULT_TRAINING_DATA.turbines} turbines x ${DEFAULT_TRAINING_DATA.minutes} min of normal operation`);
        await writeFramesCsv(simulateFarm({ ...DEFAULT_TRAINING_DATA, faults: false }).frames, data);
      }
      progress('training the detector (shared/detector pipeline, default settings)');
      await runTrainingPipeline({ dataPath: data, cacheDir: join(cacheDir, 'cache'), registry: new LocalDirectoryRegistry(modelDir), seed: DEFAULT_TRAINING_DATA.seed });
      trained = true;
    }
    for (const version of FLEET_TEST_VERSIONS) {
      progress(`packaging ${FLEET_TEST_MODEL_NAME} ${version}`);
      await packageModel({ modelDir, name: FLEET_TEST_MODEL_NAME, version, out: packages[version], key, createdAt: new Date('2026-01-01T00:00:00Z') });
    }
  }
  return { packages, publicKeyPem: key.publicKeyPem, trained, seconds: (performance.now() - t0) / 1000 };
}
