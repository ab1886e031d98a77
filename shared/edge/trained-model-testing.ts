/**
 * Test support: a detector trained by the real training pipeline (runTrainingPipeline, what `npm run train`
 * runs) on a small simulated farm, its signed packages (what `npm run package` makes) and labelled
 * evaluation data. Training takes some seconds, so it is done once per test run and shared: the first test
 * process trains into a folder named for the test runner's process, later ones wait for it and reuse it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDirectoryRegistry, runTrainingPipeline } from '../detector';
import { compileModelDir, createPackage, loadOrCreateSigningKey, packageContents, packageModel, PUBLIC_KEY_FILE } from '../packaging';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { writeLabelsCsv } from '../turbine/labels';
import { tamperedPackage } from './package-testing';
import { waitUntil } from '../labs/poll-until';

/** Files of the shared trained model. */
export interface TrainedTestModel {
  /** Model directory written by the training pipeline. */
  modelDir: string;
  /** Signed packages of it: 1.0.0 and 2.0.0 (same model), 3.0.0 tampered after signing, 3.0.0 signed by another key. */
  packages: { v1: string; v2: string; tampered: string; foreignKey: string; brokenStatistics: string };
  /** The trusted public key (PEM file) the good packages are signed with. */
  publicKey: string;
  /** Labelled evaluation data (another seed, with faults). */
  evalData: string;
  evalLabels: string;
}

/** The small training farm and budget: enough for thresholds that hold on new normal data, quick to train. */
export const TRAINED_TEST_DATA = Object.freeze({ turbines: 6, minutes: 8, seed: 42, epochs: 6 });

const MODEL_NAME = 'wind-turbine-anomaly';

function paths(dir: string): TrainedTestModel {
  return {
    modelDir: join(dir, 'model'),
    packages: {
      v1: join(dir, 'model-1.0.0.tar.gz'),
      v2: join(dir, 'model-2.0.0.tar.gz'),
      tampered: join(dir, 'model-3.0.0-tampered.tar.gz'),
      foreignKey: join(dir, 'model-3.0.0-foreign-key.tar.gz'),
      brokenStatistics: join(dir, 'model-1.0.0-broken-statistics.tar.gz'),
    },
    publicKey: join(dir, 'keys', PUBLIC_KEY_FILE),
    evalData: join(dir, 'eval.csv.gz'),
    evalLabels: join(dir, 'eval.labels.csv'),
  };
}

async function build(dir: string): Promise<void> {
  const p = paths(dir);
  const data = join(dir, 'train.csv.gz');
  await writeFramesCsv(simulateFarm({ turbines: TRAINED_TEST_DATA.turbines, minutes: TRAINED_TEST_DATA.minutes, seed: TRAINED_TEST_DATA.seed }).frames, data);
  const faulty = simulateFarm({ turbines: 2, minutes: 10, seed: 7, faults: true });
  await writeFramesCsv(faulty.frames, p.evalData);
  writeLabelsCsv(faulty.labels, p.evalLabels);
  await runTrainingPipeline({ dataPath: data, cacheDir: join(dir, 'cache'), registry: new LocalDirectoryRegistry(p.modelDir), training: { epochs: TRAINED_TEST_DATA.epochs } });
  const key = loadOrCreateSigningKey(join(dir, 'keys'));
  for (const [version, out] of [['1.0.0', p.packages.v1], ['2.0.0', p.packages.v2]] as const) await packageModel({ modelDir: p.modelDir, name: MODEL_NAME, version, out, key });
  const v3 = await packageModel({ modelDir: p.modelDir, name: MODEL_NAME, version: '3.0.0', key });
  writeFileSync(p.packages.tampered, tamperedPackage(v3.bytes));
  writeFileSync(p.packages.foreignKey, (await packageModel({ modelDir: p.modelDir, name: MODEL_NAME, version: '3.0.0', key: loadOrCreateSigningKey(join(dir, 'foreign-keys')) })).bytes);
  // Correctly signed, but its statistics are a thousand times too narrow: every real window scores huge.
  const compiled = await compileModelDir(p.modelDir, { name: MODEL_NAME, version: '1.0.0' });
  const contents = packageContents(compiled, MODEL_NAME, '1.0.0');
  contents.statistics = { ...contents.statistics, std: contents.statistics.std.map((s) => s / 1000) };
  writeFileSync(p.packages.brokenStatistics, createPackage(contents, compiled.onnx.bytes, key).bytes);
}

let shared: Promise<TrainedTestModel> | null = null;

/**
 * The shared trained model, trained on first use in this test run. The folder is named for the parent
 * process (the test runner), so every test file of one run shares it and the next run trains afresh.
 */
export function trainedTestModel(): Promise<TrainedTestModel> {
  shared ??= (async () => {
    const dir = process.env.TRAINED_TEST_MODEL_DIR ?? join(tmpdir(), `wind-turbine-trained-test-model-${process.ppid}`);
    const done = join(dir, 'done');
    const lock = join(dir, 'lock');
    mkdirSync(dir, { recursive: true });
    const lockIsStale = (): boolean => existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000;
    for (const started = Date.now(); !existsSync(done); ) {
      try {
        mkdirSync(lock);
      } catch {
        // Another test process is training: wait until it is done or gone (or take over if it died long ago).
        if (lockIsStale()) rmSync(lock, { recursive: true, force: true });
        const left = 600_000 - (Date.now() - started);
        await waitUntil(`the trained test model in ${dir}`, () => existsSync(done) || !existsSync(lock) || lockIsStale(), { timeoutMs: Math.max(1, left), intervalMs: 250, maxIntervalMs: 250 });
        continue;
      }
      try {
        if (!existsSync(done)) {
          await build(dir);
          writeFileSync(done, new Date().toISOString());
        }
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
    readFileSync(done);
    return paths(dir);
  })();
  return shared;
}
